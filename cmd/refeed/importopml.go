package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode"

	"github.com/refeed/refeed/config"
	"github.com/refeed/refeed/opml"
)

// importSetup declares import-opml's -c: the config whose categories and
// sources the output leaves out, so that it can be appended to it.
func importSetup(fs *flag.FlagSet) runFunc {
	existing := fs.String("c", "", "leave out the categories and sources config `FILE` has already (by slug or title, and by URL)")
	return func(ctx context.Context, e *env, fs *flag.FlagSet, args []string) int {
		return runImportOPML(ctx, e, fs, args, *existing)
	}
}

// runImportOPML prints config blocks for the feeds of an OPML file: one
// [[category]] per outline group and one [[source]] per feed, leaving out
// what the config at existing (if not "") has already.
func runImportOPML(ctx context.Context, e *env, fs *flag.FlagSet, args []string, existing string) int {
	if len(args) != 1 {
		fmt.Fprintln(e.stderr, "refeed import-opml: name the OPML file: refeed import-opml [-c config.toml] FILE")
		return exitUsage
	}
	var have *config.Config
	if existing != "" {
		var err error
		if have, err = config.Load(existing); err != nil {
			fmt.Fprintf(e.stderr, "refeed import-opml: -c %s: %v\n", existing, err)
			return exitUsage
		}
	}
	f, err := os.Open(args[0])
	if err != nil {
		fmt.Fprintf(e.stderr, "refeed import-opml: %v\n", err)
		return exitUsage
	}
	defer f.Close()
	doc, err := opml.Read(f)
	if err != nil {
		fmt.Fprintf(e.stderr, "refeed import-opml: %s: %v\n", args[0], err)
		return exitUsage
	}
	if len(doc.Feeds) > 0 {
		doc.Groups = append(doc.Groups, opml.Group{Title: "Imported", Feeds: doc.Feeds})
	}
	writeImport(e.stdout, doc.Groups, have)
	return exitOK
}

// writeImport writes the config blocks for groups. With have, categories
// have has (by slug, or by title) are not written again but used, sources
// with a URL have has are left out, and new names avoid have's.
func writeImport(w io.Writer, groups []opml.Group, have *config.Config) {
	used := map[string]bool{}
	haveSlug, haveTitle, haveURL := map[string]bool{}, map[string]string{}, map[string]bool{}
	if have != nil {
		for _, c := range have.Categories {
			used[c.Slug], haveSlug[c.Slug] = true, true
			haveTitle[c.Title] = c.Slug
		}
		for _, s := range have.Sources {
			used[s.Name], haveURL[s.URL] = true, true
		}
	}
	if have == nil {
		fmt.Fprintln(w, "# Imported from OPML by refeed import-opml. Append to config.toml, then run refeed check.")
	} else {
		fmt.Fprintf(w, "# Imported from OPML by refeed import-opml -c %s: the categories and sources it has already\n"+
			"# are left out (categories by slug or title, sources by URL). Append to it, then run refeed check.\n", have.Path)
	}
	skipped := 0
	for gi, g := range groups {
		var feeds []opml.Feed
		for _, f := range g.Feeds {
			if haveURL[f.XMLURL] {
				skipped++
				continue
			}
			haveURL[f.XMLURL] = true
			feeds = append(feeds, f)
		}
		slug, ok := haveTitle[g.Title]
		if !ok && haveSlug[slugify(g.Title)] {
			slug, ok = slugify(g.Title), true
		}
		if !ok {
			if len(feeds) == 0 && have != nil {
				continue // nothing new in it
			}
			slug = uniqueSlug(used, slugify(g.Title), "category-"+strconv.Itoa(gi+1))
			fmt.Fprintf(w, "\n[[category]]\nslug = %s\ntitle = %s\n", tomlString(slug), tomlString(g.Title))
		}
		for fi, f := range feeds {
			name := uniqueSlug(used, slugify(f.Title), slug+"-"+strconv.Itoa(fi+1))
			fmt.Fprintf(w, "\n[[source]]\nname = %s\nurl = %s\ncategory = %s\n", tomlString(name), tomlString(f.XMLURL), tomlString(slug))
			if f.Title != "" {
				fmt.Fprintf(w, "# title: %s\n", strings.ReplaceAll(f.Title, "\n", " "))
			}
			if f.HTMLURL != "" {
				fmt.Fprintf(w, "# site: %s\n", strings.ReplaceAll(f.HTMLURL, "\n", " "))
			}
		}
	}
	if skipped > 0 {
		fmt.Fprintf(w, "\n# %d feeds left out: the config has their URLs already.\n", skipped)
	}
}

// slugify keeps ASCII letters and digits, lower-cased, joined by dashes;
// titles with none (e.g. all Chinese) give "".
func slugify(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			continue
		}
		dash = true
	}
	out := b.String()
	if len(out) > 40 {
		out = strings.TrimRight(out[:40], "-")
	}
	return out
}

func uniqueSlug(used map[string]bool, slug, fallback string) string {
	if slug == "" {
		slug = fallback
	}
	cand := slug
	for i := 2; used[cand]; i++ {
		cand = slug + "-" + strconv.Itoa(i)
	}
	used[cand] = true
	return cand
}

// tomlString quotes s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

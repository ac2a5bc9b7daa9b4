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

	"github.com/refeed/refeed/opml"
)

// runImportOPML prints config blocks for the feeds of an OPML file: one
// [[category]] per outline group and one [[source]] per feed.
func runImportOPML(ctx context.Context, e *env, fs *flag.FlagSet, args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(e.stderr, "refeed import-opml: name the OPML file: refeed import-opml FILE")
		return exitUsage
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
	writeImport(e.stdout, doc.Groups)
	return exitOK
}

func writeImport(w io.Writer, groups []opml.Group) {
	used := map[string]bool{}
	fmt.Fprintln(w, "# Imported from OPML by refeed import-opml. Append to config.toml, then run refeed check.")
	for gi, g := range groups {
		slug := uniqueSlug(used, slugify(g.Title), "category-"+strconv.Itoa(gi+1))
		fmt.Fprintf(w, "\n[[category]]\nslug = %s\ntitle = %s\n", tomlString(slug), tomlString(g.Title))
		for fi, f := range g.Feeds {
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

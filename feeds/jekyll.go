package feeds

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/refeed/refeed/storage"
)

// JekyllPath is where a post's file goes in a Jekyll site:
// "_posts/YYYY-MM-DD-{id}.md", dated by its publication in loc.
func JekyllPath(p storage.Post, loc *time.Location) string {
	if loc == nil {
		loc = shanghai
	}
	return "_posts/" + postPublished(&p).In(loc).Format("2006-01-02") + "-" + p.ID + ".md"
}

// JekyllCategoryPath is where JekyllCategoryPage's output goes, so that the
// back links of exported posts ({base_url}/category/{slug}.html) resolve.
func JekyllCategoryPath(slug string) string {
	return "category/" + slug + ".html"
}

// Jekyll writes one post as a Jekyll post file, in SPEC's format:
//
//	---
//	layout: post
//	title: "{title, YAML double-quoted and escaped}"
//	date: {published, "2006-01-02 15:04:05 -0700" in the site timezone}
//	categories: {category slug}
//	tags: {tags, space separated}
//	---
//	{content HTML}
//
//	<{original link}>
//
//	[{back label}{category title}]({base_url}/category/{slug}.html)｜[{home label}]({base_url}/)
//
// The content is the post's content, else its summary, without trailing
// blank space. A tag containing spaces has them replaced by '-' (Jekyll
// splits the tags string on spaces); the tags value is double-quoted when
// a plain YAML scalar could not hold it. A post without a link has no
// "<link>" paragraph; without a category, the back links name home only.
func Jekyll(w io.Writer, site Site, p storage.Post, categorySlug, categoryTitle string) error {
	l := labelsFor(site.Language)
	base := site.base()
	var b strings.Builder
	b.WriteString("---\nlayout: post\ntitle: ")
	b.WriteString(yamlQuote(p.Title))
	b.WriteString("\ndate: ")
	b.WriteString(postPublished(&p).In(site.location()).Format("2006-01-02 15:04:05 -0700"))
	b.WriteString("\ncategories:")
	if categorySlug != "" {
		b.WriteString(" " + yamlScalar(categorySlug))
	}
	b.WriteString("\ntags:")
	if tags := jekyllTags(p.Tags); tags != "" {
		b.WriteString(" " + yamlScalar(tags))
	}
	b.WriteString("\n---\n")
	b.WriteString(strings.TrimRight(body(&p), " \t\r\n"))
	b.WriteString("\n\n")
	if p.Link != "" {
		b.WriteString("<" + p.Link + ">\n\n")
	}
	if categorySlug != "" {
		if categoryTitle == "" {
			categoryTitle = categorySlug
		}
		fmt.Fprintf(&b, "[%s%s](%s/category/%s.html)｜", l.BackTo, markdownText(categoryTitle), base, categorySlug)
	}
	fmt.Fprintf(&b, "[%s](%s/)\n", l.BackHome, base)
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("feeds: write jekyll post %s: %w", p.ID, err)
	}
	return nil
}

// JekyllCategoryPage writes category/{slug}.html for a Jekyll site: front
// matter with layout "category", the title and the slug, and a Liquid list
// of the category's posts, so the page is useful even when the theme has no
// "category" layout.
func JekyllCategoryPage(w io.Writer, site Site, slug, title string) error {
	if title == "" {
		title = slug
	}
	var b strings.Builder
	b.WriteString("---\nlayout: category\ntitle: ")
	b.WriteString(yamlQuote(title))
	b.WriteString("\ncategory: " + yamlScalar(slug) + "\n")
	b.WriteString("permalink: /category/" + slug + ".html\n---\n")
	b.WriteString("<ul>\n{% for post in site.categories[page.category] %}\n" +
		"  <li>{{ post.date | date: \"%Y-%m-%d %H:%M\" }} <a href=\"{{ post.url | relative_url }}\">{{ post.title | escape }}</a></li>\n" +
		"{% endfor %}\n</ul>\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("feeds: write jekyll category %s: %w", slug, err)
	}
	return nil
}

// jekyllTags joins tags with spaces; spaces inside a tag become '-'.
func jekyllTags(tags []string) string {
	out := make([]string, 0, len(tags))
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		t = strings.Join(strings.Fields(t), "-")
		if t == "" || seen[t] {
			continue
		}
		seen[t] = true
		out = append(out, t)
	}
	return strings.Join(out, " ")
}

// markdownText escapes the characters that would end or break a Markdown
// link text.
func markdownText(s string) string {
	return strings.NewReplacer(`\`, `\\`, `[`, `\[`, `]`, `\]`).Replace(s)
}

// yamlQuote writes s as a YAML double-quoted scalar: backslash and quote
// escaped, and every character YAML does not allow printed (controls, DEL,
// C1, line and paragraph separators, BOM, non-characters) as an escape.
// Invalid UTF-8 becomes U+FFFD.
func yamlQuote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case 0:
			b.WriteString(`\0`)
		case 0x85:
			b.WriteString(`\N`)
		case 0x2028:
			b.WriteString(`\L`)
		case 0x2029:
			b.WriteString(`\P`)
		default:
			switch {
			case r < 0x20 || r == 0x7f:
				fmt.Fprintf(&b, `\x%02X`, r)
			case r >= 0x80 && r < 0xa0, r == 0xfeff, r == 0xfffe, r == 0xffff:
				fmt.Fprintf(&b, `\u%04X`, r)
			default:
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// yamlScalar returns s as is when it reads back as the same plain YAML
// string, and double-quoted otherwise (conservatively: any indicator first,
// any quote, backslash, control, ": " or " #", booleans, nulls and numbers).
func yamlScalar(s string) string {
	switch {
	case s == "",
		strings.ContainsAny(s[:1], "-?:,[]{}#&*!|>'\"%@` "),
		strings.ContainsFunc(s, func(r rune) bool { return r == '"' || r == '\\' || r < 0x20 || r == 0x7f }),
		strings.Contains(s, ": "), strings.Contains(s, " #"), strings.HasSuffix(s, ":"),
		looksNumeric(s):
		return yamlQuote(s)
	}
	switch strings.ToLower(s) {
	case "true", "false", "yes", "no", "on", "off", "null", "y", "n":
		return yamlQuote(s)
	}
	return s
}

// looksNumeric reports whether YAML could read s as a number or date.
func looksNumeric(s string) bool {
	for _, r := range s {
		if !strings.ContainsRune("0123456789+-.:eE_ xXoO", r) {
			return false
		}
	}
	return true
}

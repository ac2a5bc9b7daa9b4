// Package htmltext turns HTML into plain text, the one way refeed does it:
// for titles and authors, JSON Feed summaries, filters and the search
// index. The element lists are shared with the sanitiser's streaming text
// builder (package aggregator/sanitize), which must give the same text.
package htmltext

import (
	"strings"
	"unicode"

	"html"

	xhtml "golang.org/x/net/html"
)

// Text returns the plain text of an HTML fragment: tags dropped, character
// references decoded once, runs of white space collapsed to one space and the
// ends trimmed. Block elements and <br> separate words ("<h1>Title</h1>Body"
// is "Title Body"); the content of script, style and similar elements is
// dropped. Text without markup passes through, white space collapsed.
func Text(s string) string {
	if s == "" {
		return ""
	}
	if !strings.ContainsAny(s, "<&") {
		return collapse(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	z := xhtml.NewTokenizer(strings.NewReader(s))
	skip := 0
	for {
		switch z.Next() {
		case xhtml.ErrorToken:
			return collapse(b.String())
		case xhtml.StartTagToken:
			name, _ := z.TagName()
			switch n := string(name); {
			case Skips(n):
				skip++
			case Block(n) || n == "br":
				b.WriteByte(' ')
			}
		case xhtml.EndTagToken:
			name, _ := z.TagName()
			switch n := string(name); {
			case Skips(n):
				if skip > 0 {
					skip--
				}
			case Block(n):
				b.WriteByte(' ')
			}
		case xhtml.SelfClosingTagToken:
			b.WriteByte(' ')
		case xhtml.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		}
	}
}

// Skips reports whether Text drops the content of the element name.
func Skips(name string) bool {
	switch name {
	case "script", "style", "noscript", "template", "iframe", "object":
		return true
	}
	return false
}

// Block reports whether the start and end of the element name separate
// words.
func Block(name string) bool {
	switch name {
	case "p", "div", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
		"ul", "ol", "dl", "dt", "dd", "table", "pre", "figure", "figcaption", "section", "article",
		"header", "footer", "aside", "nav", "hr", "address", "caption":
		return true
	}
	return false
}

// collapse turns each run of white space into one space and trims the ends.
func collapse(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// Scan is Text for sanitised HTML, without the tokenizer, for matching
// search terms in the stored content of every post a search scans: tags
// are dropped (block elements and <br> leave a space), the content of the
// elements Text drops is dropped, comments too, and character references
// are decoded. White space is not collapsed: for a term without white space
// it finds what Text finds (FuzzScan checks that on the sanitiser's output).
// It relies on what sanitised HTML is: every "<" starts a tag or a comment,
// and no attribute value holds a raw ">".
func Scan(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	skip := 0
	for len(s) > 0 {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			i = len(s)
		}
		if skip == 0 {
			b.WriteString(html.UnescapeString(s[:i]))
		}
		s = s[i:]
		if s == "" {
			break
		}
		if strings.HasPrefix(s, "<!--") {
			j := strings.Index(s, "-->")
			if j < 0 {
				break
			}
			s = s[j+3:]
			continue
		}
		j := strings.IndexByte(s, '>')
		if j < 0 {
			break
		}
		tag := s[1:j]
		s = s[j+1:]
		end := strings.HasPrefix(tag, "/")
		name := strings.ToLower(strings.TrimLeft(tag, "/"))
		if k := strings.IndexAny(name, " \t\n\r\f/"); k >= 0 {
			name = name[:k]
		}
		switch {
		case Skips(name) && strings.HasSuffix(tag, "/"):
		case Skips(name) && end:
			if skip > 0 {
				skip--
			}
		case Skips(name):
			skip++
		case skip == 0 && (Block(name) || name == "br" || strings.HasSuffix(tag, "/")):
			b.WriteByte(' ')
		}
	}
	return b.String()
}

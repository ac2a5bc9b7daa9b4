// Package htmltext turns HTML into plain text, the one way refeed does it:
// for titles and authors, JSON Feed summaries, filters and the search
// index. The element lists are shared with the sanitiser's streaming text
// builder (package aggregator/sanitize), which must give the same text.
package htmltext

import (
	"strings"
	"unicode"

	"golang.org/x/net/html"
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
		return Collapse(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	z := html.NewTokenizer(strings.NewReader(s))
	skip := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return Collapse(b.String())
		case html.StartTagToken:
			name, _ := z.TagName()
			switch n := string(name); {
			case Skips(n):
				skip++
			case Block(n) || n == "br":
				b.WriteByte(' ')
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch n := string(name); {
			case Skips(n):
				if skip > 0 {
					skip--
				}
			case Block(n):
				b.WriteByte(' ')
			}
		case html.SelfClosingTagToken:
			b.WriteByte(' ')
		case html.TextToken:
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

// Collapse turns each run of white space into one space and trims the ends.
func Collapse(s string) string {
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

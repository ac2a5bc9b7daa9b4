package sanitize

import (
	"github.com/refeed/refeed/storage/htmltext"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// postProcess runs over bluemonday's output to do what bluemonday cannot:
// resolve relative URLs, vet srcset candidates, keep data: URLs to img src,
// set rel on links and drop iframes whose src did not survive. If text is
// not nil, it also collects the plain text of the result, as Text would.
//
// It does not run a full HTML tokenizer: bluemonday's output is regular.
// Every tag is well-formed, its name and attribute names are lower case,
// attribute values are double-quoted, and '<', '>', '&' and quotes in text
// and values are escaped; comments are gone; the only raw-text element
// allowed is iframe, whose content is escaped text. So a tag is a '<'
// followed by a letter or '/' up to the next '>', and everything between
// tags is text. (FuzzPostProcess checks the result against the tokenizer.)
func postProcess(s string, base *url.URL, text *textBuilder) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	skipIframe := 0 // depth of an iframe being dropped
	rawText := 0    // depth of elements whose text Text drops
	for len(s) > 0 {
		if text != nil && text.full() {
			text = nil // the rest is markup only
		}
		i := strings.IndexByte(s, '<')
		if i < 0 {
			i = len(s)
		}
		if i > 0 {
			if skipIframe == 0 {
				b.WriteString(s[:i])
				if text != nil && rawText == 0 {
					text.writeText(html.UnescapeString(s[:i]))
				}
			}
			s = s[i:]
			continue
		}
		end := tagEnd(s)
		if end < 0 || len(s) < 2 || !(s[1] == '/' || isLetter(s[1])) {
			// Not a tag (does not occur in bluemonday's output): keep
			// it as the tokenizer would, as text.
			if end < 0 {
				end = len(s)
			} else {
				end = 1
			}
			if skipIframe == 0 {
				b.WriteString(s[:end])
				if text != nil && rawText == 0 {
					text.writeText(html.UnescapeString(s[:end]))
				}
			}
			s = s[end:]
			continue
		}
		tag := s[:end]
		s = s[end:]
		if tag[1] == '/' {
			name, _ := tagName(tag[2:])
			if skipIframe > 0 {
				if name == "iframe" {
					skipIframe--
				}
				continue
			}
			b.WriteString(tag)
			if text != nil {
				rawText = text.endTag(name, rawText)
			}
			continue
		}
		name, nameLen := tagName(tag[1:])
		selfClosing := tag[len(tag)-2] == '/'
		if skipIframe == 0 && !rewrites(name) {
			b.WriteString(tag) // nothing to fix
			if text != nil {
				rawText = text.startTag(name, selfClosing, rawText)
			}
			continue
		}
		if skipIframe > 0 {
			if name == "iframe" {
				skipIframe++
			}
			continue
		}
		tok := html.Token{Type: html.StartTagToken, Data: name, Attr: parseAttrs(tag[1+nameLen : len(tag)-1])}
		if !fixTag(&tok, base) {
			if name == "iframe" && !selfClosing {
				skipIframe = 1
			}
			continue
		}
		// <img/> and <img> alike render as <img>.
		writeStartTag(&b, &tok)
		if text != nil {
			rawText = text.startTag(name, false, rawText)
		}
	}
	return b.String()
}

// writeStartTag writes tok as html.Token.String would, without building
// the string first.
func writeStartTag(b *strings.Builder, tok *html.Token) {
	b.WriteByte('<')
	b.WriteString(tok.Data)
	for _, a := range tok.Attr {
		b.WriteByte(' ')
		b.WriteString(a.Key)
		b.WriteString(`="`)
		escapeTo(b, a.Val)
		b.WriteByte('"')
	}
	b.WriteByte('>')
}

// escapedChars are the bytes html.EscapeString escapes.
const escapedChars = "&'<>\"\r"

// escapeTo writes html.EscapeString(s) to b.
func escapeTo(b *strings.Builder, s string) {
	for {
		i := strings.IndexAny(s, escapedChars)
		if i < 0 {
			b.WriteString(s)
			return
		}
		b.WriteString(s[:i])
		switch s[i] {
		case '&':
			b.WriteString("&amp;")
		case '\'':
			b.WriteString("&#39;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&#34;")
		case '\r':
			b.WriteString("&#13;")
		}
		s = s[i+1:]
	}
}

// tagEnd returns the length of the tag at the start of s (up to and with
// its '>'), skipping '>' inside double-quoted values, or -1.
func tagEnd(s string) int {
	quoted := false
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case '>':
			if !quoted {
				return i + 1
			}
		}
	}
	return -1
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// tagName returns the lower-case name at the start of s and its length in s.
func tagName(s string) (string, int) {
	i := 0
	for i < len(s) && !isTagSpace(s[i]) && s[i] != '/' && s[i] != '>' {
		i++
	}
	return strings.ToLower(s[:i]), i
}

func isTagSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

// parseAttrs parses the attributes of a start tag, s being what follows the
// name, as the tokenizer would: names lower-cased, values unescaped.
func parseAttrs(s string) []html.Attribute {
	var attrs []html.Attribute
	for {
		for len(s) > 0 && (isTagSpace(s[0]) || s[0] == '/') {
			s = s[1:]
		}
		if len(s) == 0 {
			return attrs
		}
		i := 0
		for i < len(s) && !isTagSpace(s[i]) && s[i] != '=' && s[i] != '/' && (i == 0 || s[i] != '>') {
			i++
		}
		key := strings.ToLower(s[:i])
		s = strings.TrimLeft(s[i:], " \t\n\f\r")
		val := ""
		if strings.HasPrefix(s, "=") {
			s = strings.TrimLeft(s[1:], " \t\n\f\r")
			if len(s) > 0 && (s[0] == '"' || s[0] == '\'') {
				q := s[0]
				j := strings.IndexByte(s[1:], q)
				if j < 0 {
					val, s = s[1:], ""
				} else {
					val, s = s[1:1+j], s[2+j:]
				}
			} else {
				j := 0
				for j < len(s) && !isTagSpace(s[j]) {
					j++
				}
				val, s = s[:j], s[j:]
			}
		}
		attrs = append(attrs, html.Attribute{Key: key, Val: html.UnescapeString(val)})
	}
}

// textBuilder collects plain text as Text does: block-level tags separate
// words, runs of white space become one space, the ends are trimmed. With a
// limit of 0 or more it stops once it holds at least limit bytes.
type textBuilder struct {
	b     strings.Builder
	space bool // white space pending
	limit int  // < 0: no limit
}

// full reports whether the builder holds all the text it was asked for.
func (t *textBuilder) full() bool { return t.limit >= 0 && t.b.Len() >= t.limit }

// startTag accounts for a start tag; skip is the depth of elements whose
// text is dropped, before and after.
func (t *textBuilder) startTag(name string, selfClosing bool, skip int) int {
	switch {
	case selfClosing:
		t.space = true
	case htmltext.Skips(name):
		skip++
	case htmltext.Block(name) || name == "br":
		t.space = true
	}
	return skip
}

// endTag is startTag for an end tag.
func (t *textBuilder) endTag(name string, skip int) int {
	switch {
	case htmltext.Skips(name):
		if skip > 0 {
			skip--
		}
	case htmltext.Block(name):
		t.space = true
	}
	return skip
}

// writeText adds text (entities decoded already). Runs of valid non-space
// characters are copied in one write. It stops once the limit is reached.
func (t *textBuilder) writeText(s string) {
	run := 0 // s[:run] is pending: valid UTF-8 without white space
	flush := func() {
		if run > 0 {
			t.flushSpace()
			t.b.WriteString(s[:run])
		}
	}
	for run < len(s) {
		if t.limit >= 0 && t.b.Len()+run >= t.limit {
			break // enough: s[:run] ends on a rune boundary
		}
		c := s[run]
		if c < utf8.RuneSelf {
			if c == ' ' || '\t' <= c && c <= '\r' {
				flush()
				s, run = s[run+1:], 0
				t.space = true
				continue
			}
			run++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[run:])
		switch {
		case unicode.IsSpace(r):
			flush()
			s, run = s[run+n:], 0
			t.space = true
		case r == utf8.RuneError && n == 1:
			flush()
			s, run = s[run+n:], 0
			t.flushSpace()
			t.b.WriteRune(r) // invalid bytes become U+FFFD, as in Text
		default:
			run += n
		}
	}
	flush()
}

func (t *textBuilder) flushSpace() {
	if t.space && t.b.Len() > 0 {
		t.b.WriteByte(' ')
	}
	t.space = false
}

// String returns the text collected.
func (t *textBuilder) String() string { return t.b.String() }

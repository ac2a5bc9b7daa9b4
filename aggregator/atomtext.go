package aggregator

import (
	"encoding/base64"
	"encoding/xml"
	"errors"
	"html"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/atom"
)

// Atom text constructs (RFC 4287 §3.1). gofeed decodes a type="text"
// title, summary or content into its text, but keeps the type of the
// content only, and the normaliser reads all three as HTML: a title "Why
// &lt;script&gt; tags block rendering" would lose its words with the "tag".
// So a text title or content is escaped here, and then reads as the text it
// is; so is a text summary when the document is read again (below). Atom
// 0.3 content in mode="base64" is decoded (gofeed leaves text/* types
// alone).

// atomTypes is what one entry's title, summary and content say they are.
type atomTypes struct {
	title, summary, content          string // the type attribute, lower case
	hasTitle, hasSummary, hasContent bool   // the element was seen
	base64                           bool   // content mode="base64"
}

// fixAtomText escapes the text constructs of feed's entries and decodes
// base64 content. body is the document gofeed parsed.
func fixAtomText(feed *gofeed.Feed, body []byte) {
	f, ok := feed.OriginalFeed().(*atom.Feed)
	if !ok || f == nil || len(f.Entries) != len(feed.Items) {
		return
	}
	// gofeed keeps the content's type but not the title's or the
	// summary's: the types are read again from the document (about a third
	// of gofeed's parse) only when a title, or a summary standing in for
	// missing content, is ambiguous (text that, read as HTML, would hold
	// markup), and for Atom 0.3 (base64 content).
	ambiguous := false
	for _, it := range feed.Items {
		if it != nil && (strings.Contains(it.Title, "<") || it.Content == "" && strings.Contains(it.Description, "<")) {
			ambiguous = true
			break
		}
	}
	var types []atomTypes
	if ambiguous || feed.FeedVersion == "0.3" {
		if types = readAtomTypes(body); len(types) != len(feed.Items) {
			types = nil // not the entries gofeed saw: leave them as they are
		}
	}
	for i, it := range feed.Items {
		if it == nil {
			continue
		}
		var ty atomTypes
		if i < len(types) {
			ty = types[i]
		}
		if c := f.Entries[i].Content; c != nil && !ty.hasContent {
			ty.content, ty.hasContent = strings.ToLower(c.Type), true
		}
		if ty.base64 {
			if b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(it.Content), "")); err == nil && utf8.Valid(b) {
				it.Content = string(b)
			}
		}
		if ty.hasTitle {
			it.Title = escapeText(it.Title, ty.title)
		}
		if ty.hasSummary {
			it.Description = escapeText(it.Description, ty.summary)
		}
		if ty.hasContent && !ty.base64 {
			it.Content = escapeText(it.Content, ty.content)
		}
	}
}

// escapeText makes a construct of type typ HTML: text types are escaped,
// html and xhtml (and other media types) are left as they are.
func escapeText(s, typ string) string {
	if s == "" || !isTextType(typ) {
		return s
	}
	return html.EscapeString(s)
}

// isTextType reports whether an Atom type attribute means plain text: the
// default, "text" and text/plain (Atom 0.3).
func isTextType(typ string) bool {
	switch typ {
	case "", "text", "text/plain":
		return true
	}
	return false
}

// readAtomTypes reads the type (and Atom 0.3 mode) attributes of each
// entry's title, summary and content, in document order. It gives up
// (nil) on a document encoding/xml cannot read.
func readAtomTypes(body []byte) []atomTypes {
	d := rereader(body)
	var out []atomTypes
	depth, entry := 0, -1 // entry: the depth of the open <entry>, or -1
	for {
		tok, err := d.RawToken()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return out
			}
			return nil
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case entry < 0 && t.Name.Local == "entry" && t.Name.Space == "":
				entry = depth
				out = append(out, atomTypes{})
			case entry >= 0 && depth == entry+1 && t.Name.Space == "":
				ty := &out[len(out)-1]
				typ, mode := attr(t, "type"), attr(t, "mode")
				switch t.Name.Local {
				case "title":
					ty.title, ty.hasTitle = typ, true
				case "summary":
					ty.summary, ty.hasSummary = typ, true
				case "content":
					ty.content, ty.hasContent = typ, true
					ty.base64 = mode == "base64"
				}
			}
		case xml.EndElement:
			if depth == entry {
				entry = -1
			}
			depth--
		}
	}
}

func attr(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Local == name && a.Name.Space == "" {
			return strings.ToLower(strings.TrimSpace(a.Value))
		}
	}
	return ""
}

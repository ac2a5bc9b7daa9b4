package aggregator

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"net/url"
	"strings"

	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/rss"
)

// What gofeed's RSS translation leaves out and other readers use, read from
// the document again when it has any (a cheap byte search says so):
//   - xml:base (on the channel, an item or its description/content): the
//     base for the item's relative link and for the relative URLs of its
//     content, kept in Item.Custom[xmlBaseKey] for the normaliser;
//   - an XHTML <body> in an item (feedparser reads it): its markup is the
//     content of an item that has none.
const (
	xmlBaseKey = "xml:base"
	xmlNS      = "http://www.w3.org/XML/1998/namespace"
	xhtmlNS    = "http://www.w3.org/1999/xhtml"
)

// rssItemXML is what readRSSItems finds for one item.
type rssItemXML struct {
	base string // innermost xml:base for the item's content, resolved against the outer ones
	body string // inner XML of an XHTML body
}

// fixRSSXML fills in xml:base and XHTML bodies for an RSS feed.
func fixRSSXML(feed *gofeed.Feed, body []byte) {
	f, ok := feed.OriginalFeed().(*rss.Feed)
	if !ok || f == nil || !(bytes.Contains(body, []byte("xml:base")) || bytes.Contains(body, []byte(xhtmlNS))) {
		return
	}
	items := readRSSItems(body)
	if len(items) != len(feed.Items) {
		return // not the items gofeed saw: leave them as they are
	}
	for i, it := range feed.Items {
		if it == nil {
			continue
		}
		x := items[i]
		if x.base != "" {
			if it.Custom == nil {
				it.Custom = map[string]string{}
			}
			it.Custom[xmlBaseKey] = x.base
		}
		if x.body != "" && strings.TrimSpace(it.Content) == "" {
			it.Content = x.body
		}
	}
}

// rereader is an encoding/xml decoder for reading a feed gofeed has parsed
// already, again, for what gofeed leaves out: lenient, with HTML's entities.
func rereader(body []byte) *xml.Decoder {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = false
	d.Entity = xml.HTMLEntity
	return d
}

// readRSSItems reads each <item>'s xml:base and XHTML body, in document
// order; nil if encoding/xml cannot read the document.
func readRSSItems(body []byte) []rssItemXML {
	d := rereader(body)
	var out []rssItemXML
	bases := []string{""} // the xml:base in force at each open element
	inItem := 0           // depth of the open <item>, or 0
	for {
		tok, err := d.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return out
			}
			return nil
		}
		switch t := tok.(type) {
		case xml.StartElement:
			base := bases[len(bases)-1]
			for _, a := range t.Attr {
				if a.Name.Space == xmlNS && a.Name.Local == "base" {
					base = resolveRef(base, strings.TrimSpace(a.Value))
				}
			}
			depth := len(bases)
			switch {
			case inItem == 0 && t.Name.Local == "item" && (t.Name.Space == "" || strings.Contains(t.Name.Space, "rss")):
				inItem = depth
				out = append(out, rssItemXML{base: base})
			case inItem > 0 && t.Name.Space == xhtmlNS && t.Name.Local == "body":
				var inner struct {
					XML string `xml:",innerxml"`
				}
				if d.DecodeElement(&inner, &t) == nil && out[len(out)-1].body == "" {
					out[len(out)-1].body = strings.TrimSpace(inner.XML)
				}
				continue // DecodeElement consumed its end
			case inItem > 0 && depth == inItem+1 && base != bases[len(bases)-1] &&
				(t.Name.Local == "description" || t.Name.Local == "encoded"):
				out[len(out)-1].base = base // the content's own base wins
			}
			bases = append(bases, base)
		case xml.EndElement:
			bases = bases[:len(bases)-1]
			if len(bases) == inItem {
				inItem = 0
			}
		}
	}
}

// resolveRef resolves ref against base (either may be relative; a
// relative result is resolved against the feed's URL by the normaliser).
func resolveRef(base, ref string) string {
	if base == "" || ref == "" {
		return cmpOr(ref, base)
	}
	b, err1 := url.Parse(base)
	r, err2 := url.Parse(ref)
	if err1 != nil || err2 != nil {
		return ref
	}
	return b.ResolveReference(r).String()
}

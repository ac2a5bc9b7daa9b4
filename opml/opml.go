// Package opml writes and reads OPML 2.0 subscription lists, the format feed
// readers use to import and export their sources.
package opml

import (
	"encoding/xml"
	"fmt"
	"io"
	"time"
)

// Feed is one subscription.
type Feed struct {
	Title   string
	XMLURL  string
	HTMLURL string
}

// Group is a titled set of feeds (a category).
type Group struct {
	Title string
	Feeds []Feed
}

// Document is an OPML document: groups of feeds, plus loose feeds that are
// in no group.
type Document struct {
	Title   string
	Created time.Time
	Groups  []Group
	Feeds   []Feed
}

type xmlDoc struct {
	XMLName xml.Name   `xml:"opml"`
	Version string     `xml:"version,attr"`
	Title   string     `xml:"head>title"`
	Created string     `xml:"head>dateCreated,omitempty"`
	Body    []xmlEntry `xml:"body>outline"`
}

type xmlEntry struct {
	Text    string     `xml:"text,attr"`
	Title   string     `xml:"title,attr,omitempty"`
	Type    string     `xml:"type,attr,omitempty"`
	XMLURL  string     `xml:"xmlUrl,attr,omitempty"`
	HTMLURL string     `xml:"htmlUrl,attr,omitempty"`
	Entries []xmlEntry `xml:"outline"`
}

func entry(f Feed) xmlEntry {
	return xmlEntry{Text: f.Title, Title: f.Title, Type: "rss", XMLURL: f.XMLURL, HTMLURL: f.HTMLURL}
}

// Write renders d as OPML 2.0.
func Write(w io.Writer, d Document) error {
	doc := xmlDoc{Version: "2.0", Title: d.Title}
	if !d.Created.IsZero() {
		doc.Created = d.Created.UTC().Format(time.RFC1123Z)
	}
	for _, g := range d.Groups {
		e := xmlEntry{Text: g.Title, Title: g.Title}
		for _, f := range g.Feeds {
			e.Entries = append(e.Entries, entry(f))
		}
		doc.Body = append(doc.Body, e)
	}
	for _, f := range d.Feeds {
		doc.Body = append(doc.Body, entry(f))
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("opml: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("opml: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// Read parses an OPML document. Outlines with an xmlUrl are feeds; an
// outline without one is a group named by its title (or text), and nested
// groups flatten into their innermost title. Feeds at the top level are
// returned in Document.Feeds.
func Read(r io.Reader) (Document, error) {
	var doc xmlDoc
	dec := xml.NewDecoder(io.LimitReader(r, 64<<20))
	dec.Strict = false
	if err := dec.Decode(&doc); err != nil {
		return Document{}, fmt.Errorf("opml: %w", err)
	}
	d := Document{Title: doc.Title}
	index := map[string]int{}
	var walk func(group string, es []xmlEntry)
	walk = func(group string, es []xmlEntry) {
		for _, e := range es {
			title := e.Title
			if title == "" {
				title = e.Text
			}
			if e.XMLURL == "" {
				walk(title, e.Entries)
				continue
			}
			f := Feed{Title: title, XMLURL: e.XMLURL, HTMLURL: e.HTMLURL}
			if group == "" {
				d.Feeds = append(d.Feeds, f)
				continue
			}
			i, ok := index[group]
			if !ok {
				i = len(d.Groups)
				index[group] = i
				d.Groups = append(d.Groups, Group{Title: group})
			}
			d.Groups[i].Feeds = append(d.Groups[i].Feeds, f)
		}
	}
	walk("", doc.Body)
	return d, nil
}

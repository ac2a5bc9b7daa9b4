package feeds

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	gorilla "github.com/gorilla/feeds"

	"github.com/refeed/refeed/storage"
)

const atomNS = "http://www.w3.org/2005/Atom"

type atomFeed struct {
	XMLName   xml.Name            `xml:"feed"`
	Xmlns     string              `xml:"xmlns,attr"`
	Lang      string              `xml:"xml:lang,attr,omitempty"`
	Title     string              `xml:"title"`
	Subtitle  string              `xml:"subtitle,omitempty"`
	ID        string              `xml:"id"`
	Updated   string              `xml:"updated"`
	Links     []gorilla.AtomLink  `xml:"link"`
	Author    *gorilla.AtomAuthor `xml:"author"`
	Generator *atomGenerator      `xml:"generator"`
	Icon      string              `xml:"icon,omitempty"`
	Entries   []atomEntry         `xml:"entry"`
}

type atomGenerator struct {
	URI  string `xml:"uri,attr,omitempty"`
	Name string `xml:",chardata"`
}

type atomEntry struct {
	Title      string               `xml:"title"`
	ID         string               `xml:"id"`
	Links      []gorilla.AtomLink   `xml:"link"`
	Published  string               `xml:"published"`
	Updated    string               `xml:"updated"`
	Author     *gorilla.AtomAuthor  `xml:"author"`
	Categories []atomCategory       `xml:"category"`
	Source     *atomSource          `xml:"source"`
	Summary    *gorilla.AtomSummary `xml:"summary"`
	Content    *gorilla.AtomContent `xml:"content"`
}

type atomCategory struct {
	Term   string `xml:"term,attr"`
	Scheme string `xml:"scheme,attr,omitempty"`
	Label  string `xml:"label,attr,omitempty"`
}

// atomSource is RFC 4287 atom:source: where an entry came from, with the
// id, title and updated that §4.2.11 says it should carry (the W3C
// validator warns without them). Its updated is the entry's own: the
// source's poll times would change the document on every poll although no
// post changed.
type atomSource struct {
	ID      string             `xml:"id"`
	Title   string             `xml:"title"`
	Updated string             `xml:"updated"`
	Links   []gorilla.AtomLink `xml:"link"`
}

// Atom writes f as an Atom 1.0 feed document.
func Atom(w io.Writer, f Feed) error {
	doc := atomDoc(&f)
	if _, err := io.WriteString(w, xmlHeader); err != nil {
		return fmt.Errorf("feeds: write atom: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("feeds: encode atom: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("feeds: write atom: %w", err)
	}
	return nil
}

// langTag returns lang when it is an RFC 4287 language tag and "" (no
// xml:lang) otherwise: the schema rejects "zh_CN" and xml:lang="".
func langTag(lang string) string {
	parts := strings.Split(lang, "-")
	for i, p := range parts {
		if len(p) < 1 || len(p) > 8 {
			return ""
		}
		for _, r := range p {
			alpha := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
			if !alpha && (i == 0 || r < '0' || r > '9') {
				return ""
			}
		}
	}
	return lang
}

func atomTime(t time.Time, loc *time.Location) string {
	return t.In(loc).Format(time.RFC3339)
}

func atomDoc(f *Feed) *atomFeed {
	loc := f.Site.location()
	base := f.Site.base()
	doc := &atomFeed{
		Xmlns:    atomNS,
		Lang:     langTag(f.Site.Language),
		Title:    f.Title,
		Subtitle: f.description(),
		ID:       f.id(),
		Updated:  atomTime(f.updated(), loc),
		Icon:     IconURL(base),
	}
	if f.Site.Generator != "" {
		doc.Generator = &atomGenerator{Name: f.Site.Generator}
	}
	doc.Links = append(doc.Links, gorilla.AtomLink{Href: f.htmlURL(), Rel: "alternate", Type: "text/html"})
	if f.SelfURL != "" {
		doc.Links = append(doc.Links, gorilla.AtomLink{Href: f.SelfURL, Rel: "self", Type: AtomType})
	}
	if f.NextURL != "" {
		doc.Links = append(doc.Links, gorilla.AtomLink{Href: f.NextURL, Rel: "next", Type: AtomType})
	}
	if f.Site.Hub != "" {
		doc.Links = append(doc.Links, gorilla.AtomLink{Href: f.Site.Hub, Rel: "hub"})
	}
	doc.Entries = make([]atomEntry, 0, len(f.Posts))
	for i := range f.Posts {
		doc.Entries = append(doc.Entries, f.atomEntry(&f.Posts[i], loc))
	}
	return doc
}

func (f *Feed) atomEntry(p *storage.Post, loc *time.Location) atomEntry {
	base := f.Site.base()
	e := atomEntry{
		Title:     p.Title,
		ID:        PostURL(base, p.ID),
		Published: atomTime(postPublished(p), loc),
		Updated:   atomTime(postUpdated(p), loc),
	}
	e.Links = append(e.Links, gorilla.AtomLink{Href: f.itemLink(p), Rel: "alternate", Type: "text/html"})
	for _, enc := range enclosures(p) {
		l := gorilla.AtomLink{Href: enc.URL, Rel: "enclosure", Type: enc.Type}
		if enc.Length > 0 {
			l.Length = strconv.FormatInt(enc.Length, 10)
		}
		e.Links = append(e.Links, l)
	}
	// Every entry names its own author (RFC 4287 §4.1.1, with no
	// feed-level author): the post's, else its source feed's title, else
	// the site's. A feed-level author would be shown as the author of
	// every post that names none, and added to those that do.
	e.Author = &gorilla.AtomAuthor{}
	e.Author.Name = f.author(p)
	for _, c := range f.categories(p) {
		if c.Slug != "" {
			e.Categories = append(e.Categories, atomCategory{Term: c.Slug, Scheme: base + "/category/", Label: c.Name})
		} else {
			e.Categories = append(e.Categories, atomCategory{Term: c.Name, Scheme: base + "/tag/"})
		}
	}
	if s, ok := f.source(p); ok {
		// The source feed's URL is its id; one that is not a web URL
		// (file://) is stood in for by refeed's own feed of the source.
		id := sourceFeedURL(s)
		if !isWebURL(id) {
			id = strings.TrimSuffix(SourceURL(base, s.Name), ".html") + ".atom"
		}
		src := &atomSource{ID: id, Title: sourceTitle(s), Updated: e.Updated}
		src.Links = append(src.Links, gorilla.AtomLink{Href: id, Rel: "self"})
		if isWebURL(s.State.SiteURL) {
			src.Links = append(src.Links, gorilla.AtomLink{Href: s.State.SiteURL, Rel: "alternate", Type: "text/html"})
		}
		e.Source = src
	}
	if p.Summary != "" {
		e.Summary = &gorilla.AtomSummary{Type: "html", Content: p.Summary}
	}
	if b := body(p); b != "" {
		e.Content = &gorilla.AtomContent{Type: "html", Content: b}
	}
	return e
}

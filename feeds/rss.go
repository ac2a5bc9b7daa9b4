package feeds

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"time"

	gorilla "github.com/gorilla/feeds"

	"github.com/refeed/refeed/storage"
)

type rssDoc struct {
	XMLName   xml.Name   `xml:"rss"`
	Version   string     `xml:"version,attr"`
	AtomNS    string     `xml:"xmlns:atom,attr"`
	ContentNS string     `xml:"xmlns:content,attr"`
	DCNS      string     `xml:"xmlns:dc,attr"`
	Channel   rssChannel `xml:"channel"`
}

type rssChannel struct {
	Title         string        `xml:"title"`
	Link          string        `xml:"link"`
	Description   string        `xml:"description"`
	AtomLinks     []rssAtomLink `xml:"atom:link"`
	Language      string        `xml:"language,omitempty"`
	LastBuildDate string        `xml:"lastBuildDate"`
	Generator     string        `xml:"generator,omitempty"`
	Docs          string        `xml:"docs"`
	Items         []rssItem     `xml:"item"`
}

// rssAtomLink is an atom:link inside RSS: the only standard way for RSS to
// name its own URL, its next page (RFC 5005) and its WebSub hub.
type rssAtomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
}

type rssItem struct {
	Title       string                `xml:"title,omitempty"`
	Link        string                `xml:"link"`
	GUID        gorilla.RssGuid       `xml:"guid"`
	PubDate     string                `xml:"pubDate"`
	Creator     string                `xml:"dc:creator,omitempty"`
	Categories  []string              `xml:"category"`
	Enclosure   *gorilla.RssEnclosure `xml:"enclosure"`
	Source      *rssSource            `xml:"source"`
	Description string                `xml:"description,omitempty"`
	Content     string                `xml:"content:encoded,omitempty"`
}

type rssSource struct {
	URL   string `xml:"url,attr"`
	Title string `xml:",chardata"`
}

// RSS writes f as an RSS 2.0 document.
//
// Item guids are the post page URLs marked isPermaLink="false" (the item
// link is the original article). <description> holds the summary, or the
// content when there is no summary; <content:encoded> holds the full content
// only when the description does not already.
func RSS(w io.Writer, f Feed) error {
	doc := rssDocument(&f)
	if _, err := io.WriteString(w, xmlHeader); err != nil {
		return fmt.Errorf("feeds: write rss: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("feeds: encode rss: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("feeds: write rss: %w", err)
	}
	return nil
}

// rssTime is RFC 822 with a four-digit year and a numeric zone, never "UTC".
func rssTime(t time.Time, loc *time.Location) string {
	return t.In(loc).Format(time.RFC1123Z)
}

func rssDocument(f *Feed) *rssDoc {
	loc := f.Site.location()
	ch := rssChannel{
		Title:         f.Title,
		Link:          f.htmlURL(),
		Description:   f.description(),
		Language:      f.Site.Language,
		LastBuildDate: rssTime(f.updated(), loc),
		Generator:     f.Site.Generator,
		Docs:          "https://www.rssboard.org/rss-specification",
	}
	if f.SelfURL != "" {
		ch.AtomLinks = append(ch.AtomLinks, rssAtomLink{Href: f.SelfURL, Rel: "self", Type: RSSType})
	}
	if f.NextURL != "" {
		ch.AtomLinks = append(ch.AtomLinks, rssAtomLink{Href: f.NextURL, Rel: "next", Type: RSSType})
	}
	if f.Site.Hub != "" {
		ch.AtomLinks = append(ch.AtomLinks, rssAtomLink{Href: f.Site.Hub, Rel: "hub"})
	}
	ch.Items = make([]rssItem, 0, len(f.Posts))
	for i := range f.Posts {
		ch.Items = append(ch.Items, f.rssItem(&f.Posts[i], loc))
	}
	return &rssDoc{
		Version:   "2.0",
		AtomNS:    atomNS,
		ContentNS: "http://purl.org/rss/1.0/modules/content/",
		DCNS:      "http://purl.org/dc/elements/1.1/",
		Channel:   ch,
	}
}

func (f *Feed) rssItem(p *storage.Post, loc *time.Location) rssItem {
	it := rssItem{
		Title:      p.Title,
		Link:       f.itemLink(p),
		GUID:       gorilla.RssGuid{Id: PostURL(f.Site.base(), p.ID), IsPermaLink: "false"},
		PubDate:    rssTime(postPublished(p), loc),
		Creator:    p.Author,
		Categories: categoryNames(f.categories(p)),
	}
	if p.Summary != "" {
		it.Description = p.Summary
		if p.Content != "" && p.Content != p.Summary {
			it.Content = p.Content
		}
	} else {
		it.Description = p.Content
	}
	if it.Title == "" && it.Description == "" {
		// An item needs a title or a description.
		it.Title = it.Link
	}
	if encs := enclosures(p); len(encs) > 0 {
		// RSS allows one enclosure per item.
		it.Enclosure = &gorilla.RssEnclosure{
			Url:    encs[0].URL,
			Length: strconv.FormatInt(encs[0].Length, 10),
			Type:   encs[0].Type,
		}
	}
	if s, ok := f.source(p); ok {
		if u := sourceFeedURL(s); isWebURL(u) {
			it.Source = &rssSource{URL: u, Title: sourceTitle(s)}
		}
	}
	return it
}

package feeds

import (
	"encoding/json"
	"fmt"
	"github.com/refeed/refeed/storage/htmltext"
	"io"
	"time"

	gorilla "github.com/gorilla/feeds"

	"github.com/refeed/refeed/storage"
)

const jsonFeedVersion = "https://jsonfeed.org/version/1.1"

type jsonFeed struct {
	Version     string               `json:"version"`
	Title       string               `json:"title"`
	HomePageURL string               `json:"home_page_url"`
	FeedURL     string               `json:"feed_url,omitempty"`
	Description string               `json:"description,omitempty"`
	NextURL     string               `json:"next_url,omitempty"`
	Icon        string               `json:"icon,omitempty"`
	Favicon     string               `json:"favicon,omitempty"`
	Authors     []gorilla.JSONAuthor `json:"authors,omitempty"`
	Language    string               `json:"language,omitempty"`
	Hubs        []gorilla.JSONHub    `json:"hubs,omitempty"`
	Items       []jsonItem           `json:"items"`
}

type jsonItem struct {
	ID            string               `json:"id"`
	URL           string               `json:"url,omitempty"`
	Title         string               `json:"title,omitempty"`
	ContentHTML   string               `json:"content_html,omitempty"`
	ContentText   string               `json:"content_text,omitempty"`
	Summary       string               `json:"summary,omitempty"`
	Image         string               `json:"image,omitempty"`
	DatePublished string               `json:"date_published,omitempty"`
	DateModified  string               `json:"date_modified,omitempty"`
	Authors       []gorilla.JSONAuthor `json:"authors,omitempty"`
	Tags          []string             `json:"tags,omitempty"`
	Attachments   []jsonAttachment     `json:"attachments,omitempty"`
}

// jsonAttachment is a JSON Feed 1.1 attachment. gorilla/feeds' version names
// the size "size" where the spec says "size_in_bytes".
type jsonAttachment struct {
	URL         string `json:"url"`
	MIMEType    string `json:"mime_type"`
	SizeInBytes int64  `json:"size_in_bytes,omitempty"`
}

// JSON writes f as a JSON Feed 1.1 document, compact (indenting would
// triple the rendering time) and with HTML characters unescaped.
func JSON(w io.Writer, f Feed) error {
	doc := jsonDoc(&f)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("feeds: encode json feed: %w", err)
	}
	return nil
}

func jsonDoc(f *Feed) *jsonFeed {
	loc := f.Site.location()
	base := f.Site.base()
	doc := &jsonFeed{
		Version:     jsonFeedVersion,
		Title:       f.Title,
		HomePageURL: f.htmlURL(),
		FeedURL:     f.SelfURL,
		Description: f.description(),
		NextURL:     f.NextURL,
		Icon:        IconURL(base),
		Favicon:     IconURL(base),
		Language:    f.Site.Language,
		Items:       make([]jsonItem, 0, len(f.Posts)),
	}
	if f.Site.Hub != "" {
		doc.Hubs = []gorilla.JSONHub{{Type: "WebSub", Url: f.Site.Hub}}
	}
	for i := range f.Posts {
		doc.Items = append(doc.Items, f.jsonItem(&f.Posts[i], loc))
	}
	return doc
}

func (f *Feed) jsonItem(p *storage.Post, loc *time.Location) jsonItem {
	it := jsonItem{
		ID:            PostURL(f.Site.base(), p.ID),
		URL:           f.itemLink(p),
		Title:         p.Title,
		ContentHTML:   body(p),
		Summary:       htmltext.Text(p.Summary),
		DatePublished: atomTime(postPublished(p), loc),
		DateModified:  atomTime(postUpdated(p), loc),
		Tags:          categoryNames(f.categories(p)),
	}
	if it.ContentHTML == "" {
		// Every item needs content_html or content_text.
		it.ContentText = p.Title
		if it.ContentText == "" {
			it.ContentText = it.URL
		}
	}
	if isWebURL(p.Image) {
		it.Image = p.Image
	}
	if a := f.author(p); a != "" {
		it.Authors = []gorilla.JSONAuthor{{Name: a}}
	}
	for _, e := range enclosures(p) {
		it.Attachments = append(it.Attachments, jsonAttachment{URL: e.URL, MIMEType: e.Type, SizeInBytes: e.Length})
	}
	return it
}

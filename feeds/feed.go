// Package feeds renders stored posts as RSS 2.0, Atom 1.0 and JSON Feed 1.1
// documents, as HTML pages and as Jekyll post files. Everything here is a pure
// renderer: posts in, bytes out. It does no HTTP, no SQL and no file IO
// beyond its embedded templates and assets.
//
// The XML and JSON documents are built from this package's own encoding/xml
// and encoding/json structs rather than gorilla/feeds' Feed model, because
// that model cannot express what refeed promises its readers: several item
// categories (Atom term/label), atom:source and RSS <source> provenance,
// rel="self"/"next"/"hub" links on RSS, dc:creator, xml:lang, JSON Feed 1.1
// authors and size_in_bytes, and it invents a random Atom id when one is
// missing. The leaf types that do fit (Atom links and persons, RSS guids and
// enclosures, JSON hubs and authors) are gorilla/feeds' own.
package feeds

import (
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/refeed/refeed/storage"
)

// Site is site-wide settings.
type Site struct {
	Title, Description, BaseURL, Language string         // BaseURL without trailing slash, absolute
	Location                              *time.Location // site timezone (Asia/Shanghai by default)
	Hub                                   string         // optional WebSub hub URL -> rel="hub"
	Generator                             string         // e.g. "refeed 0.1.0"
}

// Feed is one feed to render.
type Feed struct {
	Site        Site
	Title       string    // e.g. "finews: 中国税务报新闻"
	Description string    // "" -> Site.Description, then Title
	SelfURL     string    // absolute URL of this feed document (with its query)
	NextURL     string    // absolute URL of the next page, "" on the last page
	HTMLURL     string    // absolute URL of the HTML page for the same listing
	Updated     time.Time // newest post change; zero -> use newest post or Unix 0
	Posts       []storage.Post
	Sources     map[string]storage.Source // by name, for provenance (title, site URL, feed URL)
	Categories  map[string]string         // slug -> title, for item categories
}

// Media types of the three feed formats, without parameters.
const (
	RSSType  = "application/rss+xml"
	AtomType = "application/atom+xml"
	JSONType = "application/feed+json"
)

// xmlHeader starts every XML document; encoding/xml writes none itself.
const xmlHeader = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"

// shanghai is the default site zone. A fixed zone (China has kept +08:00
// without DST since 1991) needs no tzdata on the host.
var shanghai = time.FixedZone("CST", 8*60*60)

// PostURL is the address of a post's HTML page: base + "/post/" + id + ".html".
// It is also every feed item's id, so it never changes for a post.
func PostURL(base, id string) string {
	return strings.TrimRight(base, "/") + "/post/" + id + ".html"
}

// CategoryURL is the HTML page of a category.
func CategoryURL(base, slug string) string {
	return strings.TrimRight(base, "/") + "/category/" + url.PathEscape(slug) + ".html"
}

// TagURL is the HTML page of a tag; the UTF-8 tag is percent-encoded.
func TagURL(base, tag string) string {
	return strings.TrimRight(base, "/") + "/tag/" + url.PathEscape(tag) + ".html"
}

// SourceURL is the HTML page of a source.
func SourceURL(base, name string) string {
	return strings.TrimRight(base, "/") + "/source/" + url.PathEscape(name) + ".html"
}

// IconURL is the site icon served from Assets.
func IconURL(base string) string {
	return strings.TrimRight(base, "/") + "/static/icon.svg"
}

// location returns the site zone, Asia/Shanghai when unset.
func (s Site) location() *time.Location {
	if s.Location != nil {
		return s.Location
	}
	return shanghai
}

// base returns BaseURL without a trailing slash.
func (s Site) base() string { return strings.TrimRight(s.BaseURL, "/") }

// home is the site's home page URL.
func (s Site) home() string { return s.base() + "/" }

// description falls back to the site's description, then the title, because
// RSS requires a non-empty channel description in practice.
func (f *Feed) description() string {
	switch {
	case f.Description != "":
		return f.Description
	case f.Site.Description != "":
		return f.Site.Description
	}
	return f.Title
}

// htmlURL is the listing's HTML page, the home page when unset.
func (f *Feed) htmlURL() string {
	if f.HTMLURL != "" {
		return f.HTMLURL
	}
	return f.Site.home()
}

// id is the feed's stable identity: SelfURL without the paging parameters,
// so every page of one logical feed (RFC 5005) shares it while a search
// feed (?q=) keeps its own.
func (f *Feed) id() string {
	u, err := url.Parse(f.SelfURL)
	if err != nil || f.SelfURL == "" {
		return f.htmlURL()
	}
	q := u.Query()
	q.Del("before")
	q.Del("limit")
	u.RawQuery = q.Encode()
	u.Fragment = ""
	return u.String()
}

// updated is the feed's last change: Feed.Updated, else the newest post
// change, else the Unix epoch (never the wall clock: output is deterministic).
func (f *Feed) updated() time.Time {
	if !f.Updated.IsZero() {
		return f.Updated
	}
	var t time.Time
	for i := range f.Posts {
		if u := postUpdated(&f.Posts[i]); u.After(t) {
			t = u
		}
	}
	if t.IsZero() {
		return time.Unix(0, 0)
	}
	return t
}

// postPublished is a post's date, falling back to when it was first seen.
func postPublished(p *storage.Post) time.Time {
	switch {
	case !p.Published.IsZero():
		return p.Published
	case !p.FirstSeen.IsZero():
		return p.FirstSeen
	}
	return time.Unix(0, 0)
}

// postUpdated is a post's last change, never before its publication.
func postUpdated(p *storage.Post) time.Time {
	pub := postPublished(p)
	if p.Updated.After(pub) {
		return p.Updated
	}
	return pub
}

// itemLink is the original article, or the post's page when the original has
// no usable absolute http(s) URL.
func (f *Feed) itemLink(p *storage.Post) string {
	if isWebURL(p.Link) {
		return p.Link
	}
	return PostURL(f.Site.BaseURL, p.ID)
}

// body is the item's full HTML: the content, else the summary.
func body(p *storage.Post) string {
	if strings.TrimSpace(p.Content) != "" {
		return p.Content
	}
	return p.Summary
}

// isWebURL reports whether s is an absolute http(s) URL, the only kind feed
// readers and validators accept in links.
func isWebURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return false
	}
	return u.Scheme == "http" || u.Scheme == "https"
}

// category is one item category: a category slug with its title, or a tag
// (Slug empty).
type category struct {
	Slug, Name string
}

// categories lists a post's categories then its tags, deduplicated by the
// name a reader shows, in a stable order. A tag equal to a category's title
// (the default tag of a source) appears once, as the category.
func (f *Feed) categories(p *storage.Post) []category {
	var out []category
	seen := make(map[string]bool, len(p.Categories)+len(p.Tags))
	add := func(slug, name string) {
		name = strings.TrimSpace(name)
		if name == "" || seen[name] {
			return
		}
		seen[name] = true
		out = append(out, category{Slug: slug, Name: name})
	}
	for _, slug := range p.Categories {
		title := f.Categories[slug]
		if title == "" {
			title = slug
		}
		add(slug, title)
	}
	for _, t := range p.Tags {
		add("", t)
	}
	return out
}

// categoryNames are the names of categories(p), for RSS and JSON.
func categoryNames(cs []category) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}

// source returns the post's first source, if it is known.
func (f *Feed) source(p *storage.Post) (storage.Source, bool) {
	if len(p.Sources) == 0 {
		return storage.Source{}, false
	}
	s, ok := f.Sources[p.Sources[0]]
	if !ok {
		return storage.Source{}, false
	}
	if s.Name == "" {
		s.Name = p.Sources[0]
	}
	return s, true
}

// author is who an item is credited to: the post's author, else its
// source feed's title, else the site's title. Feeds carry no feed-level
// author, which readers would credit with every post.
func (f *Feed) author(p *storage.Post) string {
	if p.Author != "" {
		return p.Author
	}
	if s, ok := f.source(p); ok {
		return sourceTitle(s)
	}
	if f.Site.Title != "" {
		return f.Site.Title
	}
	return "refeed"
}

// sourceTitle is the source feed's title as last seen, else its name.
func sourceTitle(s storage.Source) string {
	if s.State.Title != "" {
		return s.State.Title
	}
	return s.Name
}

// sourceFeedURL is the URL the source is fetched from now, else the
// configured one.
func sourceFeedURL(s storage.Source) string {
	if s.State.URL != "" {
		return s.State.URL
	}
	return s.URL
}

// enclosures are a post's attachments with usable URLs, with a media type
// ("application/octet-stream" when unknown, since every format requires one).
func enclosures(p *storage.Post) []storage.Enclosure {
	out := make([]storage.Enclosure, 0, len(p.Enclosures))
	for _, e := range p.Enclosures {
		if !isWebURL(e.URL) {
			continue
		}
		if !strings.Contains(e.Type, "/") {
			e.Type = "application/octet-stream"
		}
		if e.Length < 0 {
			e.Length = 0
		}
		out = append(out, e)
	}
	return slices.Clip(out)
}

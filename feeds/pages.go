package feeds

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"strconv"
	"time"

	"github.com/refeed/refeed/storage"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static/style.css static/icon.svg
var staticFiles embed.FS

// Assets returns the static files (style.css, icon.svg) the pages link to,
// to be served under /static/.
func Assets() fs.FS {
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil { // cannot happen: the directory is embedded
		panic(err)
	}
	return sub
}

// Link is a titled URL.
type Link struct{ Title, URL string }

// FeedLinks are the absolute URLs of one listing's feeds, for autodiscovery.
// Empty fields default to the site-wide feeds.
type FeedLinks struct{ RSS, Atom, JSON string }

// SourceStatus is one source's last poll, for the home page.
type SourceStatus struct {
	Name, Title, URL, SiteURL, Status, ErrorClass, Error string // URL: the feed's URL
	LastPoll, NextPoll                                   time.Time
	Failures, Posts                                      int
}

// CountLink is a category or tag with its page and number of posts.
type CountLink struct {
	Title, URL string
	Posts      int
}

// HomeData is the home page.
type HomeData struct {
	Categories []CountLink
	Tags       []CountLink
	Sources    []SourceStatus
	Posts      []storage.Post
	Feeds      FeedLinks
	NextURL    string
	// SourceTitles names the listed posts' sources (name → feed title);
	// a source missing from it is shown by its name.
	SourceTitles map[string]string
}

// ListData is a category, tag, source or search page.
type ListData struct {
	Kind                  string // "category", "tag", "source", "search"
	Title, Description    string
	Query                 string // the search text
	Posts                 []storage.Post
	Feeds                 FeedLinks
	CanonicalURL, NextURL string
	SourceTitles          map[string]string // as HomeData.SourceTitles
}

// PostData is one post's page. Post.Content (else Post.Summary) is written
// unescaped: it must be sanitised HTML, as the aggregator stores it.
type PostData struct {
	Post                       storage.Post
	CategoryTitle, CategoryURL string
	Tags                       []Link
	Sources                    []Link
	CanonicalURL               string
	Feeds                      FeedLinks
}

// Pages renders the HTML pages with the embedded templates.
type Pages struct {
	site Site
	l    *labels
	t    *template.Template
}

// page is what every template gets: the site, labels, head links and the
// page's own data.
type page struct {
	Site      Site
	Lang      string
	L         *labels
	Title     string
	Canonical string
	Feeds     FeedLinks
	Home      string
	Static    string
	Data      any
	Query     string        // search text, shown in the search box
	Body      template.HTML // post pages only
	Status    int           // error pages only
}

// NewPages parses the embedded templates for site.
func NewPages(site Site) (*Pages, error) {
	p := &Pages{site: site, l: labelsFor(site.Language)}
	loc := site.location()
	base := site.base()
	funcs := template.FuncMap{
		"date": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.In(loc).Format("2006-01-02 15:04")
		},
		"isodate": func(t time.Time) string { return t.In(loc).Format(time.RFC3339) },
		"postURL": func(id string) string { return PostURL(base, id) },
		"sourceURL": func(name string) string {
			return SourceURL(base, name)
		},
		"web":       isWebURL,
		"published": func(p storage.Post) time.Time { return postPublished(&p) },
		"statusText": func(s string) string {
			if t, ok := p.l.StatusText[s]; ok {
				return t
			}
			return s
		},
	}
	t, err := template.New("").Funcs(funcs).ParseFS(templateFiles, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("feeds: parse templates: %w", err)
	}
	p.t = t
	return p, nil
}

// newPage fills the parts every page shares.
func (p *Pages) newPage(title, canonical string, feeds FeedLinks, data any) *page {
	base := p.site.base()
	if feeds.RSS == "" {
		feeds.RSS = base + "/feed.rss"
	}
	if feeds.Atom == "" {
		feeds.Atom = base + "/feed.atom"
	}
	if feeds.JSON == "" {
		feeds.JSON = base + "/feed.json"
	}
	lang := p.site.Language
	if lang == "" {
		lang = "en"
	}
	return &page{
		Site: p.site, Lang: lang, L: p.l, Title: title, Canonical: canonical,
		Feeds: feeds, Home: p.site.home(), Static: base + "/static/", Data: data,
	}
}

func (p *Pages) execute(w io.Writer, name string, v *page) error {
	if err := p.t.ExecuteTemplate(w, name, v); err != nil {
		return fmt.Errorf("feeds: render %s: %w", name, err)
	}
	return nil
}

// Home writes the home page.
func (p *Pages) Home(w io.Writer, d HomeData) error {
	return p.execute(w, "home.html", p.newPage(p.site.Title, p.site.home(), d.Feeds, d))
}

// List writes a category, tag, source or search page.
func (p *Pages) List(w io.Writer, d ListData) error {
	title := d.Title
	if p.site.Title != "" && title != p.site.Title {
		title += " - " + p.site.Title
	}
	v := p.newPage(title, d.CanonicalURL, d.Feeds, d)
	v.Query = d.Query
	return p.execute(w, "list.html", v)
}

// Post writes one post's page.
func (p *Pages) Post(w io.Writer, d PostData) error {
	title := d.Post.Title
	if p.site.Title != "" {
		title += " - " + p.site.Title
	}
	canonical := d.CanonicalURL
	if canonical == "" {
		canonical = PostURL(p.site.BaseURL, d.Post.ID)
	}
	v := p.newPage(title, canonical, d.Feeds, d)
	v.Body = template.HTML(body(&d.Post)) // sanitised when stored
	return p.execute(w, "post.html", v)
}

// Error writes a simple error page for an HTTP status, such as 404.
func (p *Pages) Error(w io.Writer, status int, msg string) error {
	title := strconv.Itoa(status) + " " + http.StatusText(status)
	v := p.newPage(title, "", FeedLinks{}, msg)
	v.Status = status
	return p.execute(w, "error.html", v)
}

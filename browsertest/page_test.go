package browsertest

import (
	_ "embed"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

//go:embed testdata/inspect.js
var inspectJS string

// pageInfo is what testdata/inspect.js reads from a page.
type pageInfo struct {
	URL     string `json:"url"`
	Title   string `json:"title"`
	Lang    string `json:"lang"`
	Charset string `json:"charset"`
	H1      string `json:"h1"`
	Text    string `json:"text"`
	Head    []struct {
		Rel  string `json:"rel"`
		Type string `json:"type"`
		Href string `json:"href"`
	} `json:"head"`
	Links []link `json:"links"`
	Times []struct {
		Text     string `json:"text"`
		Datetime string `json:"datetime"`
	} `json:"times"`
	Scripts int `json:"scripts"`
	Images  []struct {
		Src string `json:"src"`
		Alt string `json:"alt"`
		OK  bool   `json:"ok"`
	} `json:"images"`
	Rules       int `json:"rules"`
	ScrollWidth int `json:"scrollWidth"`
	ViewWidth   int `json:"viewWidth"`
}

// link is one <a href> of a page, its href made absolute.
type link struct {
	Text string `json:"text"`
	Href string `json:"href"`
	Cls  string `json:"cls"`
}

// expect is what one page of the walk must show.
type expect struct {
	url   string   // the page's absolute URL
	h1    string   // text the first heading must contain
	cjk   string   // selector of an element of Chinese text whose font is checked
	texts []string // visible text the page must contain
	links []link   // links (by text, and href unless empty) the page must hold
}

// mojibake matches text that went through a wrong decoding: UTF-8 read as
// Latin-1 or Windows-1252 (中 → "ä¸\u00ad"), GBK read as UTF-8 and back
// (锟斤拷), escaped markup shown as text, and C1 control characters.
var mojibake = regexp.MustCompile(`\x{FFFD}|锟斤拷|烫烫|ä¸|å[\x{80}-\x{BF}]|æ[\x{80}-\x{BF}]|Ã.|Â|â€|&(amp|lt|gt|quot|#\d+);|[\x{80}-\x{9F}]`)

// inspect reads the current page.
func (b *browser) inspect(t *testing.T) pageInfo {
	t.Helper()
	info, err := chromedp.Run(b.ctx, chromedp.Evaluate[pageInfo](inspectJS))
	if err != nil {
		t.Fatalf("inspect page: %v", err)
	}
	return info
}

// checkPage asserts what every page of the site shares and what want asks.
func checkPage(t *testing.T, s *site, name string, p pageInfo, want expect) {
	t.Helper()
	if p.URL != want.url {
		t.Errorf("%s: at %s, want %s", name, p.URL, want.url)
	}
	if p.Charset != "UTF-8" || p.Lang != "zh-CN" {
		t.Errorf("%s: charset %q lang %q, want UTF-8 and zh-CN", name, p.Charset, p.Lang)
	}
	if !strings.Contains(p.Title, "finews") {
		t.Errorf("%s: <title> %q does not name the site", name, p.Title)
	}
	if !strings.Contains(p.H1, want.h1) {
		t.Errorf("%s: h1 %q, want it to hold %q", name, p.H1, want.h1)
	}
	for _, s := range []string{p.Title, p.Text} {
		if m := mojibake.FindString(s); m != "" {
			t.Errorf("%s: mojibake %q in %q", name, m, excerpt(s, m))
		}
	}
	if !hasHan(p.Text) {
		t.Errorf("%s: no Chinese characters in the visible text", name)
	}
	for _, w := range want.texts {
		if !strings.Contains(p.Text, w) {
			t.Errorf("%s: visible text lacks %q", name, w)
		}
	}
	for _, w := range want.links {
		if !p.hasLink(w) {
			t.Errorf("%s: no link %q → %s; links: %v", name, w.Text, w.Href, p.Links)
		}
	}
	if p.Scripts != 0 {
		t.Errorf("%s: %d <script> elements; the site needs none and posts must not bring any", name, p.Scripts)
	}
	if p.Rules == 0 {
		t.Errorf("%s: the stylesheet did not load", name)
	}
	rels := map[string]string{}
	for _, h := range p.Head {
		rels[h.Rel+" "+h.Type] = h.Href
	}
	for _, k := range []string{"canonical ", "stylesheet ", "icon image/svg+xml",
		"alternate application/rss+xml", "alternate application/atom+xml", "alternate application/feed+json"} {
		if rels[k] == "" {
			t.Errorf("%s: no <link rel=%q> in head", name, k)
		}
	}
	if c := rels["canonical "]; c != "" && c != strings.SplitN(want.url, "?", 2)[0] && !strings.Contains(want.url, "/search") {
		t.Errorf("%s: canonical %s, want %s", name, c, want.url)
	}
	for _, tm := range p.Times {
		if !shownDate.MatchString(tm.Text) || !strings.HasSuffix(tm.Datetime, "+08:00") {
			t.Errorf("%s: <time datetime=%q>%s</time>, want YYYY-MM-DD HH:MM in Asia/Shanghai", name, tm.Datetime, tm.Text)
		}
	}
	for _, img := range p.Images {
		if !img.OK {
			t.Errorf("%s: image %s (alt %q) did not render", name, img.Src, img.Alt)
		}
	}
	s.checkTargets(t, name, p)
}

var shownDate = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$`)

func (p pageInfo) hasLink(w link) bool {
	for _, l := range p.Links {
		if l.Text == w.Text && (w.Href == "" || l.Href == w.Href) {
			return true
		}
	}
	return false
}

// linkTo returns the first link whose text is text.
func (p pageInfo) linkTo(text string) (link, bool) {
	for _, l := range p.Links {
		if l.Text == text {
			return l, true
		}
	}
	return link{}, false
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

func excerpt(s, m string) string {
	i := strings.Index(s, m)
	lo, hi := max(0, i-20), min(len(s), i+len(m)+20)
	return strings.ToValidUTF8(s[lo:hi], "")
}

// checkTargets fetches every link of the page that points into the site and
// every asset of its head, once per test, and wants 200 for each.
func (s *site) checkTargets(t *testing.T, name string, p pageInfo) {
	t.Helper()
	var urls []string
	for _, l := range p.Links {
		urls = append(urls, l.Href)
	}
	for _, h := range p.Head {
		urls = append(urls, h.Href)
	}
	for _, u := range urls {
		if !strings.HasPrefix(u, s.base+"/") || s.checked[u] {
			continue
		}
		s.checked[u] = true
		resp, err := http.Get(u)
		if err != nil {
			t.Errorf("%s: link %s: %v", name, u, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: link %s: %s", name, u, resp.Status)
		}
	}
}

// checkResponse wants a 200 HTML document.
func checkResponse(t *testing.T, name string, resp *network.Response, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if resp.Status != http.StatusOK || !strings.HasPrefix(resp.MimeType, "text/html") {
		t.Fatalf("%s: %s answered %d %s", name, resp.URL, resp.Status, resp.MimeType)
	}
}

// noProblems fails the test for every console error, failed request or
// dialog the browser saw since the last call.
func (b *browser) noProblems(t *testing.T, name string) {
	t.Helper()
	if err := b.settle(); err != nil {
		t.Errorf("%s: %v", name, err)
	}
	for _, p := range b.rec.take() {
		t.Errorf("%s: %s", name, p)
	}
}

func (l link) String() string { return fmt.Sprintf("%q→%s", l.Text, l.Href) }

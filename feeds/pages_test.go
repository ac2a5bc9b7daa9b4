package feeds

import (
	"bytes"
	"io/fs"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/refeed/refeed/storage"
)

func mustPages(t testing.TB, s Site) *Pages {
	t.Helper()
	p, err := NewPages(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func testHome() HomeData {
	base := "https://news.example.org"
	poll := time.Date(2022, 5, 6, 2, 0, 0, 0, time.UTC)
	return HomeData{
		Categories: []CountLink{{Title: "中国税务报新闻", URL: CategoryURL(base, "zhongguoshuiwubao"), Posts: 42}},
		Tags:       []CountLink{{Title: "个税", URL: TagURL(base, "个税"), Posts: 7}, {Title: "C&C <x>", URL: TagURL(base, "C&C <x>"), Posts: 1}},
		Sources: []SourceStatus{
			{Name: "chinatax", Title: "国家税务总局", URL: "https://www.chinatax.gov.cn/rss.xml", SiteURL: "https://www.chinatax.gov.cn/",
				Status: storage.StatusOK, LastPoll: poll, NextPoll: poll.Add(30 * time.Minute), Posts: 40},
			{Name: "gone", URL: "https://old.example.org/feed", Status: storage.StatusGone, ErrorClass: "http_status",
				Error: "410 Gone", LastPoll: poll, Failures: 1},
			{Name: "broken", URL: "file:///srv/broken.xml", Status: storage.StatusError, ErrorClass: "parse",
				Error: `XML syntax error on line 3: unexpected "<"`, LastPoll: poll, NextPoll: poll.Add(time.Hour), Failures: 3},
			{Name: "fresh"},
		},
		Posts:        testPosts(),
		NextURL:      "https://news.example.org/?before=AAAA",
		SourceTitles: map[string]string{"chinatax": "国家税务总局 <新闻>"}, // mof and ghost: by name
	}
}

func testPostData() PostData {
	base := "https://news.example.org"
	return PostData{
		Post:          testPosts()[0],
		CategoryTitle: "中国税务报新闻",
		CategoryURL:   CategoryURL(base, "zhongguoshuiwubao"),
		Tags:          []Link{{Title: "中国税务报新闻", URL: TagURL(base, "中国税务报新闻")}, {Title: "个税", URL: TagURL(base, "个税")}},
		Sources:       []Link{{Title: "国家税务总局 - 新闻", URL: SourceURL(base, "chinatax")}},
		CanonicalURL:  PostURL(base, "0123456789abcdef"),
		Feeds: FeedLinks{
			RSS:  base + "/category/zhongguoshuiwubao.rss",
			Atom: base + "/category/zhongguoshuiwubao.atom",
			JSON: base + "/category/zhongguoshuiwubao.json",
		},
	}
}

func TestPagesGolden(t *testing.T) {
	zh := mustPages(t, testSite())
	enSite := testSite()
	enSite.Language = "en"
	en := mustPages(t, enSite)
	base := "https://news.example.org"
	list := ListData{
		Kind: "category", Title: "中国税务报新闻", Description: "来自《中国税务报》的新闻",
		Posts: testPosts(), CanonicalURL: CategoryURL(base, "zhongguoshuiwubao"),
		NextURL:      base + "/category/zhongguoshuiwubao.html?before=AAAA",
		SourceTitles: map[string]string{"chinatax": "国家税务总局 <新闻>"},
	}
	search := ListData{Kind: "search", Title: "搜索", Query: `个税 "<script>"`,
		CanonicalURL: base + "/search?q=" + url.QueryEscape(`个税 "<script>"`)}
	tests := []struct {
		name   string
		render func(*bytes.Buffer) error
	}{
		{"home.zh.html", func(b *bytes.Buffer) error { return zh.Home(b, testHome()) }},
		{"home.en.html", func(b *bytes.Buffer) error { return en.Home(b, testHome()) }},
		{"home-empty.html", func(b *bytes.Buffer) error { return zh.Home(b, HomeData{}) }},
		{"post.zh.html", func(b *bytes.Buffer) error { return zh.Post(b, testPostData()) }},
		{"post.en.html", func(b *bytes.Buffer) error { return en.Post(b, testPostData()) }},
		{"list.zh.html", func(b *bytes.Buffer) error { return zh.List(b, list) }},
		{"search.zh.html", func(b *bytes.Buffer) error { return zh.List(b, search) }},
		{"error.en.html", func(b *bytes.Buffer) error { return en.Error(b, 404, "no such post: 123") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.render(&b); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name, b.Bytes())
			checkPage(t, b.String(), !strings.HasPrefix(tt.name, "error"))
		})
	}
}

// checkPage asserts what every page carries.
func checkPage(t *testing.T, s string, canonical bool) {
	t.Helper()
	for _, want := range []string{
		"<!DOCTYPE html>", `<html lang="`, `<meta name="viewport"`, "<title>",
		`rel="alternate" type="application/rss+xml"`, `rel="alternate" type="application/atom+xml"`,
		`rel="alternate" type="application/feed+json"`, `href="https://news.example.org/static/style.css"`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if canonical && !strings.Contains(s, `<link rel="canonical" href="https://`) {
		t.Error("page lacks its canonical link")
	}
	if strings.Contains(s, "<script") {
		t.Error("page contains a script")
	}
	if strings.Contains(s, "ZgotmplZ") {
		t.Error("template rejected a URL (ZgotmplZ)")
	}
}

func TestPostPageLabels(t *testing.T) {
	tests := []struct{ lang, want string }{
		{"zh-CN", `<a href="https://news.example.org/category/zhongguoshuiwubao.html">返回中国税务报新闻</a>｜<a href="https://news.example.org/">返回首页</a>`},
		{"zh-TW", `返回中国税务报新闻</a>｜`},
		{"en", `<a href="https://news.example.org/category/zhongguoshuiwubao.html">Back to 中国税务报新闻</a> | <a href="https://news.example.org/">Home</a>`},
		{"", `Back to 中国税务报新闻</a> | `},
	}
	for _, tt := range tests {
		s := testSite()
		s.Language = tt.lang
		var b bytes.Buffer
		if err := mustPages(t, s).Post(&b, testPostData()); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), tt.want) {
			t.Errorf("lang %q: page lacks %s", tt.lang, tt.want)
		}
	}
}

func TestPostPageContent(t *testing.T) {
	var b bytes.Buffer
	d := testPostData()
	if err := mustPages(t, testSite()).Post(&b, d); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	for _, want := range []string{
		d.Post.Content, // sanitised HTML, unescaped
		`<time datetime="2022-05-06T08:53:00&#43;08:00">2022-05-06 08:53</time>`,
		`href="https://www.chinatax.gov.cn/n1.html"`,
		`href="https://news.example.org/tag/%E4%B8%AA%E7%A8%8E.html"`,
		`<link rel="canonical" href="https://news.example.org/post/0123456789abcdef.html">`,
		`<html lang="zh-CN">`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("post page lacks %s", want)
		}
	}
}

func TestAssets(t *testing.T) {
	for _, name := range []string{"style.css", "icon.svg"} {
		b, err := fs.ReadFile(Assets(), name)
		if err != nil || len(b) == 0 {
			t.Errorf("asset %s: %v", name, err)
		}
	}
	css, _ := fs.ReadFile(Assets(), "style.css")
	for _, want := range []string{"prefers-color-scheme: dark", `"PingFang SC"`, "max-width: 42em", "max-width: 100%"} {
		if !bytes.Contains(css, []byte(want)) {
			t.Errorf("style.css lacks %s", want)
		}
	}
}

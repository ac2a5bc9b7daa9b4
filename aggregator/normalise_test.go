package aggregator

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/refeed/refeed/storage"
)

var shanghai = mustZone("Asia/Shanghai")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// pipeline runs decode, parse and normalise over body as if fetched from feedURL.
func pipeline(t testing.TB, body []byte, s Source, feedURL string, now time.Time) []storage.Post {
	t.Helper()
	b, err := toUTF8(body, "")
	if err != nil {
		t.Fatal(err)
	}
	feed, err := parse(b)
	if err != nil {
		t.Fatal(err)
	}
	posts, _ := normalise(feed, s, feedURL, now, shanghai)
	return posts
}

var testNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func TestNormaliseRSS2(t *testing.T) {
	posts := pipeline(t, readTestdata(t, "rss2.xml"), src("tax", ""), "https://example.org/feeds/rss.xml", testNow)
	if len(posts) != 3 {
		t.Fatalf("%d posts", len(posts))
	}
	p := posts[0]
	checks := []struct{ name, got, want string }{
		{"key", p.Key, "guid:item-1"},
		{"id", p.ID, storage.PostID("tax", "guid:item-1")},
		{"link", p.Link, "https://example.org/news/1.html"},
		{"title", p.Title, "AT&T bold 税务 新闻"},
		{"content", p.Content, `<p>Full <a href="https://example.org/other.html" rel="nofollow noopener">article</a> with <img src="https://example.org/news/img/a.png" srcset="https://example.org/news/img/a.png 1x, https://example.org/news/img/a@2x.png 2x"></p>`},
		{"summary", p.Summary, "<p>Short summary</p>"},
		{"image", p.Image, "https://cdn.example.org/t1.jpg"},
		{"published", p.Published.UTC().Format(time.RFC3339), "2025-03-01T00:00:00Z"},
		{"updated", p.Updated.UTC().Format(time.RFC3339), "2025-03-01T00:00:00Z"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if len(p.Enclosures) != 1 || p.Enclosures[0] != (storage.Enclosure{URL: "https://example.org/audio/1.mp3", Type: "audio/mpeg", Length: 1234}) {
		t.Errorf("enclosures %+v", p.Enclosures)
	}
	if p.Hash == "" || len(p.Categories) != 0 || len(p.Tags) != 0 || p.FirstSeen != testNow {
		t.Errorf("hash %q categories %v tags %v firstSeen %v", p.Hash, p.Categories, p.Tags, p.FirstSeen)
	}

	// No title: the first 60 runes of the text. A zone-less date is Shanghai time.
	p = posts[1]
	if p.Key != "link:https://example.org/news/2.html" {
		t.Errorf("key %q", p.Key)
	}
	if !strings.HasPrefix(p.Title, "没有标题的文章") || !strings.HasSuffix(p.Title, "…") || len([]rune(p.Title)) != 61 {
		t.Errorf("title %q", p.Title)
	}
	if got := p.Published.UTC().Format(time.RFC3339); got != "2025-03-01T01:30:00Z" {
		t.Errorf("zone-less date: %s, want 09:30 +0800", got)
	}

	// Neither GUID nor link: a hash key; no date: first seen.
	p = posts[2]
	if !strings.HasPrefix(p.Key, "hash:") || len(p.Key) != 5+64 {
		t.Errorf("key %q", p.Key)
	}
	if !p.Published.Equal(testNow) {
		t.Errorf("published %v, want now", p.Published)
	}
}

func TestNormaliseOtherFormats(t *testing.T) {
	tests := []struct {
		file, key, link, title, author, content, image string
		published                                      string
	}{
		{"rss1.xml", "link:https://example.org/rdf/1", "https://example.org/rdf/1", "RDF item", "张三", "RDF body", "", "2025-02-28T02:00:00Z"},
		{"atom.xml", "guid:urn:uuid:entry-1", "https://blog.example.com/posts/entry-1", "Atom entry", "Ann",
			`<p>Body <img src="https://blog.example.com/posts/pic.png"></p>`, "https://blog.example.com/posts/pic.png", "2025-02-27T10:00:00Z"},
		{"feed.json", "guid:j1", "https://json.example.net/1", "JSON item", "Bo", "<p>Hello <b>JSON</b></p>", "https://json.example.net/1.png", "2025-02-26T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			posts := pipeline(t, readTestdata(t, tt.file), src("s", ""), "https://feeds.example.com/x", testNow)
			if len(posts) != 1 {
				t.Fatalf("%d posts", len(posts))
			}
			p := posts[0]
			got := []string{p.Key, p.Link, p.Title, p.Author, p.Content, p.Image, p.Published.UTC().Format(time.RFC3339)}
			want := []string{tt.key, tt.link, tt.title, tt.author, tt.content, tt.image, tt.published}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("field %d = %q, want %q", i, got[i], want[i])
				}
			}
		})
	}
}

func rssItems(items ...string) []byte {
	return []byte(`<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>https://ex.org/</link>` + strings.Join(items, "") + `</channel></rss>`)
}

func TestNormaliseDates(t *testing.T) {
	tests := []struct{ name, pub, want string }{
		{"numeric offset", "Sat, 01 Mar 2025 08:00:00 +0800", "2025-03-01T00:00:00Z"},
		{"GMT", "Sat, 01 Mar 2025 08:00:00 GMT", "2025-03-01T08:00:00Z"},
		{"Z", "2025-03-01T08:00:00Z", "2025-03-01T08:00:00Z"},
		{"+00:00", "2025-03-01T08:00:00+00:00", "2025-03-01T08:00:00Z"},
		{"zone-less RFC1123", "Sat, 01 Mar 2025 08:00:00", "2025-03-01T00:00:00Z"},
		{"zone-less ISO", "2025-03-01 08:00:00", "2025-03-01T00:00:00Z"},
		{"future by 2 days", "Mon, 03 Mar 2025 12:00:00 +0000", "2025-03-01T12:00:00Z"},
		{"future by 1 hour", "Sat, 01 Mar 2025 13:00:00 +0000", "2025-03-01T13:00:00Z"},
		{"garbage", "yesterday-ish", "2025-03-01T12:00:00Z"},
		{"missing", "", "2025-03-01T12:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			item := `<item><guid>g</guid><title>x</title>`
			if tt.pub != "" {
				item += `<pubDate>` + tt.pub + `</pubDate>`
			}
			posts := pipeline(t, rssItems(item+`</item>`), src("s", ""), "https://ex.org/feed", testNow)
			if got := posts[0].Published.UTC().Format(time.RFC3339); got != tt.want {
				t.Errorf("published %s, want %s", got, tt.want)
			}
		})
	}
}

func TestNormaliseFilters(t *testing.T) {
	body := rssItems(
		`<item><guid>1</guid><title>税务 news</title><description>keep</description></item>`,
		`<item><guid>2</guid><title>sports</title><description>football 税务</description></item>`,
		`<item><guid>3</guid><title>weather</title><description>rain</description></item>`,
	)
	tests := []struct {
		name             string
		include, exclude string
		want             []string
	}{
		{"none", "", "", []string{"guid:1", "guid:2", "guid:3"}},
		{"include on title or content", "税务", "", []string{"guid:1", "guid:2"}},
		{"exclude", "", "(?i)FOOTBALL", []string{"guid:1", "guid:3"}},
		{"both", "税务", "football", []string{"guid:1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := src("s", "")
			if tt.include != "" {
				s.Include = regexp.MustCompile(tt.include)
			}
			if tt.exclude != "" {
				s.Exclude = regexp.MustCompile(tt.exclude)
			}
			var got []string
			for _, p := range pipeline(t, body, s, "https://ex.org/feed", testNow) {
				got = append(got, p.Key)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNormaliseCapAndDuplicates(t *testing.T) {
	var items []string
	for i := range 1200 {
		items = append(items, fmt.Sprintf(`<item><guid>%d</guid><title>t%d</title></item>`, i, i))
	}
	items = append([]string{`<item><guid>0</guid><title>t0</title></item>`}, items...) // an exact repeat
	posts := pipeline(t, rssItems(items...), src("s", ""), "https://ex.org/feed", testNow)
	if len(posts) != MaxItems-1 {
		t.Fatalf("%d posts, want %d (first 1,000 items, one repeated)", len(posts), MaxItems-1)
	}
	if posts[0].Title != "t0" || posts[len(posts)-1].Key != "guid:998" {
		t.Errorf("first %q last %q", posts[0].Title, posts[len(posts)-1].Key)
	}
}

// Items whose GUID does not tell them apart (shared within a fetch, or the
// channel's link) are identified by link, or by content when the link is
// shared too: every item is kept. Items with their own GUID keep it.
func TestNormaliseSharedGUIDs(t *testing.T) {
	tests := []struct {
		name   string
		items  []string
		keys   []string
		byLink bool
	}{
		{"unique", []string{
			`<item><guid>a</guid><link>https://ex.org/1</link><title>one</title></item>`,
			`<item><guid>b</guid><link>https://ex.org/2</link><title>two</title></item>`,
		}, []string{"guid:a", "guid:b"}, false},
		{"every item the same guid", []string{
			`<item><guid>same</guid><link>https://ex.org/1</link><title>one</title></item>`,
			`<item><guid>same</guid><link>https://ex.org/2</link><title>two</title></item>`,
			`<item><guid>own</guid><link>https://ex.org/3</link><title>three</title></item>`,
		}, []string{"link:https://ex.org/1", "link:https://ex.org/2", "guid:own"}, true},
		{"guid is the channel link", []string{
			`<item><guid>https://ex.org/</guid><link>https://ex.org/1</link><title>one</title></item>`,
		}, []string{"link:https://ex.org/1"}, true},
		{"shared guid and shared link", []string{
			`<item><guid>0</guid><link>https://ex.org/</link><title>one</title></item>`,
			`<item><guid>0</guid><link>https://ex.org/</link><title>two</title></item>`,
		}, []string{"hash:", "hash:"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := toUTF8([]byte(rssItems(tt.items...)), "")
			if err != nil {
				t.Fatal(err)
			}
			feed, err := parse(b)
			if err != nil {
				t.Fatal(err)
			}
			posts, byLink := normalise(feed, src("s", ""), "https://ex.org/feed", testNow, shanghai)
			if byLink != tt.byLink || len(posts) != len(tt.keys) {
				t.Fatalf("byLink %v, %d posts; want %v, %d", byLink, len(posts), tt.byLink, len(tt.keys))
			}
			for i, p := range posts {
				if !strings.HasPrefix(p.Key, tt.keys[i]) || p.ID != storage.PostID("s", p.Key) {
					t.Errorf("post %d: key %q id %s, want %q…", i, p.Key, p.ID, tt.keys[i])
				}
			}
		})
	}
}

func TestNormaliseTitles(t *testing.T) {
	tests := []struct{ raw, want string }{
		{`AT&amp;amp;T`, "AT&T"},
		{`&lt;em&gt;Hi&lt;/em&gt; there`, "Hi there"},
		{`<![CDATA[<b>CDATA</b> &amp; co]]>`, "CDATA & co"},
		{"  many\n\t spaces  ", "many spaces"},
		{`5 &lt; 6`, "5 < 6"},
		{`&amp;#8220;quoted&amp;#8221;`, "\u201cquoted\u201d"},
		{`中文&amp;nbsp;标题`, "中文 标题"},
	}
	for _, tt := range tests {
		posts := pipeline(t, rssItems(`<item><guid>g</guid><title>`+tt.raw+`</title></item>`), src("s", ""), "https://ex.org/feed", testNow)
		if got := posts[0].Title; got != tt.want {
			t.Errorf("title %q → %q, want %q", tt.raw, got, tt.want)
		}
	}
}

func TestNormaliseSummary(t *testing.T) {
	const content = `<p>国家税务总局发布公告，明确了纳税人申领发票的要求。</p><p>Second paragraph.</p>`
	cases := []struct {
		name, summary, want string
	}{
		{"none", "", ""},
		{"same markup", content, ""},
		{"same text", `<div>国家税务总局发布公告，明确了纳税人申领发票的要求。 Second paragraph.</div>`, ""},
		{"plain lead", `国家税务总局发布公告，明确了纳税人申领发票的要求。`, ""},
		{"plain lead with ellipsis", `国家税务总局发布公告，明确了…`, ""},
		{"html lead", `<p>国家税务总局发布公告...</p>`, ""},
		{"different plain", `A short abstract.`, `A short abstract.`},
		{"different html", `<p>摘要 <b>要点</b></p><script>x()</script>`, `<p>摘要 <b>要点</b></p>`},
		{"escaped plain", `AT&amp;T &lt;b&gt;`, `AT&amp;T &lt;b&gt;`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := fmt.Sprintf(`<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>t</title><item><guid>1</guid><description>%s</description><content:encoded>%s</content:encoded></item></channel></rss>`,
				htmlEscape(c.summary), htmlEscape(content))
			posts := pipeline(t, []byte(body), src("s", ""), "https://example.org/feed", testNow)
			if len(posts) != 1 {
				t.Fatalf("%d posts", len(posts))
			}
			if posts[0].Summary != c.want {
				t.Errorf("summary %q, want %q", posts[0].Summary, c.want)
			}
			if !strings.Contains(posts[0].Content, "Second paragraph.") {
				t.Errorf("content %q", posts[0].Content)
			}
		})
	}
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// TestNormaliseLongContent covers what post reads from a long article's
// text, which it collects only as far as it needs (sanitize.HTMLText's
// limit): the summary check, the title that stands in for a missing one,
// and filters, which see all of it.
func TestNormaliseLongContent(t *testing.T) {
	first := "国家税务总局发布公告，明确了纳税人申领发票的要求。"
	rest := strings.Repeat("财政部、税务总局联合印发通知，延续实施优惠政策。", 80)
	content := "<p>" + first + "</p><p>" + rest + "</p><p>结尾 FOOTBALL</p>"
	text := first + " " + rest + " 结尾 FOOTBALL"
	runes := func(s string, n int) string { return string([]rune(s)[:n]) }
	wide := strings.Repeat("𠀀𠀁", 40) // four bytes each: 80 runes, 320 bytes
	cases := []struct {
		name, title, summary, exclude, content string
		wantTitle, wantSummary                 string
		dropped                                bool
	}{
		{name: "first sentence", title: "t", summary: first, wantTitle: "t"},
		{name: "first sentence in html", title: "t", summary: "<p>" + first + "</p>", wantTitle: "t"},
		{name: "lead with ellipsis", title: "t", summary: runes(text, 100) + "…", wantTitle: "t"},
		{name: "all of the text", title: "t", summary: "<div>" + text + "</div>", wantTitle: "t"},
		{name: "lead then different", title: "t", summary: first + "另外", wantTitle: "t", wantSummary: first + "另外"},
		{name: "all of the text and more", title: "t", summary: text + " 更多", wantTitle: "t", wantSummary: text + " 更多"},
		{name: "no title", title: "", wantTitle: runes(text, titleRunes) + "…"},
		{name: "no title, summary kept", title: "", summary: "摘要", wantTitle: runes(text, titleRunes) + "…", wantSummary: "摘要"},
		{name: "filter sees the end", title: "t", exclude: "FOOTBALL", dropped: true},
		{name: "no title, four-byte characters", content: "<p>" + wide + "</p>", wantTitle: runes(wide, titleRunes) + "…"},
		{name: "no title, exactly a title's length", content: "<p>" + runes(wide, titleRunes) + "</p>", wantTitle: runes(wide, titleRunes)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := fmt.Sprintf(`<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>t</title><item><guid>1</guid><title>%s</title><description>%s</description><content:encoded>%s</content:encoded></item></channel></rss>`,
				c.title, htmlEscape(c.summary), htmlEscape(cmpOr(c.content, content)))
			s := src("s", "")
			if c.exclude != "" {
				s.Exclude = regexp.MustCompile(c.exclude)
			}
			posts := pipeline(t, []byte(body), s, "https://example.org/feed", testNow)
			if c.dropped {
				if len(posts) != 0 {
					t.Fatalf("%d posts, want the item filtered out", len(posts))
				}
				return
			}
			if len(posts) != 1 {
				t.Fatalf("%d posts", len(posts))
			}
			p := posts[0]
			if p.Title != c.wantTitle || p.Summary != c.wantSummary {
				t.Errorf("title %q summary %q, want %q and %q", p.Title, p.Summary, c.wantTitle, c.wantSummary)
			}
		})
	}
}

package feeds

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"github.com/refeed/refeed/storage/htmltext"
	"io"
	"strings"
	"testing"
	"time"
)

type renderer func(io.Writer, Feed) error

var formats = []struct {
	name, ext string
	render    renderer
}{
	{"RSS", "rss", RSS},
	{"Atom", "atom", Atom},
	{"JSON", "json", JSON},
}

func render(t testing.TB, r renderer, f Feed) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := r(&b, f); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestGoldenFeeds(t *testing.T) {
	for _, fm := range formats {
		feeds := []struct {
			name string
			feed Feed
		}{
			{"category", testFeed(fm.ext)},
			{"empty", emptyFeed(fm.ext)},
		}
		for _, fd := range feeds {
			t.Run(fd.name+"."+fm.ext, func(t *testing.T) {
				out := render(t, fm.render, fd.feed)
				if fm.ext == "json" {
					// Compact on the wire; indented in testdata for readable diffs.
					var b bytes.Buffer
					if err := json.Indent(&b, out, "", "  "); err != nil {
						t.Fatal(err)
					}
					out = b.Bytes()
				}
				golden(t, fd.name+"."+fm.ext, out)
			})
		}
	}
}

func TestDeterministic(t *testing.T) {
	for _, fm := range formats {
		t.Run(fm.name, func(t *testing.T) {
			a := render(t, fm.render, testFeed(fm.ext))
			b := render(t, fm.render, testFeed(fm.ext))
			if !bytes.Equal(a, b) {
				t.Fatal("two renders of the same feed differ")
			}
			// Ids never come from gorilla's random generator.
			if bytes.Contains(a, []byte("urn:uuid")) {
				t.Error("output contains a urn:uuid id")
			}
		})
	}
}

func TestFeedID(t *testing.T) {
	tests := []struct{ self, want string }{
		{"https://x.org/feed.atom", "https://x.org/feed.atom"},
		{"https://x.org/feed.atom?limit=5&before=abc", "https://x.org/feed.atom"},
		{"https://x.org/feed.atom?q=%E7%A8%8E&before=abc", "https://x.org/feed.atom?q=%E7%A8%8E"},
		{"", "https://x.org/tag/a.html"},
	}
	for _, tt := range tests {
		f := Feed{Site: Site{BaseURL: "https://x.org"}, SelfURL: tt.self, HTMLURL: "https://x.org/tag/a.html"}
		if got := f.id(); got != tt.want {
			t.Errorf("id(%q) = %q, want %q", tt.self, got, tt.want)
		}
	}
}

func TestPostURL(t *testing.T) {
	for _, base := range []string{"https://x.org", "https://x.org/"} {
		if got := PostURL(base, "00ff"); got != "https://x.org/post/00ff.html" {
			t.Errorf("PostURL(%q) = %q", base, got)
		}
	}
}

func TestRSSDates(t *testing.T) {
	out := string(render(t, RSS, testFeed("rss")))
	if !strings.Contains(out, "<pubDate>Fri, 06 May 2022 08:53:00 +0800</pubDate>") {
		t.Errorf("missing +0800 pubDate in:\n%s", out)
	}
	f := emptyFeed("rss") // UTC site zone: must still be numeric
	out = string(render(t, RSS, f))
	if strings.Contains(out, "UTC") || !strings.Contains(out, "+0000") {
		t.Errorf("RSS dates in UTC must read +0000:\n%s", out)
	}
}

// JSON Feed summaries are htmltext.Text of the post's summary: words on
// either side of a block element stay apart.
func TestJSONSummaryText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<h1>Title</h1>Body", "Title Body"},
		{"<h2>要闻</h2><ul><li>一</li><li>二</li></ul>", "要闻 一 二"},
		{"", ""},
		{"plain  text\n", "plain text"},
		{"<p>a &amp; b</p><p>c</p>", "a & b c"},
		{"<p>年度汇算</p>", "年度汇算"},
		{"x<script>alert(1)</script>y", "xy"},
	}
	for _, tt := range tests {
		if got := htmltext.Text(tt.in); got != tt.want {
			t.Errorf("htmltext.Text(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLangTag(t *testing.T) {
	for in, want := range map[string]string{
		"zh-CN": "zh-CN", "en": "en", "zh-Hans-CN": "zh-Hans-CN", "de-1996": "de-1996",
		"": "", "zh_CN": "", "1a": "", "en-": "", "toolongtag": "",
	} {
		if got := langTag(in); got != want {
			t.Errorf("langTag(%q) = %q, want %q", in, got, want)
		}
	}
}

// Every atom:source carries the source feed's id, title and updated and a
// rel="self" link (RFC 4287 §4.2.11; the W3C validator warns without them),
// a file:// source included.
func TestAtomSourceElements(t *testing.T) {
	var doc struct {
		Entries []struct {
			Source *struct {
				ID      string `xml:"id"`
				Title   string `xml:"title"`
				Updated string `xml:"updated"`
				Links   []struct {
					Href string `xml:"href,attr"`
					Rel  string `xml:"rel,attr"`
				} `xml:"link"`
			} `xml:"source"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(render(t, Atom, testFeed("atom")), &doc); err != nil {
		t.Fatal(err)
	}
	n := 0
	for i, e := range doc.Entries {
		s := e.Source
		if s == nil {
			continue
		}
		n++
		self := ""
		for _, l := range s.Links {
			if l.Rel == "self" {
				self = l.Href
			}
		}
		if _, err := time.Parse(time.RFC3339, s.Updated); err != nil || s.Title == "" || !strings.HasPrefix(s.ID, "https://") || self != s.ID {
			t.Errorf("entry %d: source id %q title %q updated %q self %q", i, s.ID, s.Title, s.Updated, self)
		}
	}
	if n < 2 {
		t.Errorf("%d entries with a source, want the fixture's (at least 2)", n)
	}
}

// Authors are per entry, never per feed: readers credit a feed-level author
// with every post that names none (and add it to those that do). An entry
// without one of its own names its source feed.
func TestAuthorsPerEntry(t *testing.T) {
	var atom struct {
		Author  *struct{} `xml:"author"`
		Entries []struct {
			Author *struct {
				Name string `xml:"name"`
			} `xml:"author"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(render(t, Atom, testFeed("atom")), &atom); err != nil {
		t.Fatal(err)
	}
	var js struct {
		Authors []any `json:"authors"`
		Items   []struct {
			Authors []struct {
				Name string `json:"name"`
			} `json:"authors"`
		} `json:"items"`
	}
	if err := json.Unmarshal(render(t, JSON, testFeed("json")), &js); err != nil {
		t.Fatal(err)
	}
	if atom.Author != nil || js.Authors != nil {
		t.Errorf("feed-level author: atom %v, json %v", atom.Author, js.Authors)
	}
	posts := testFeed("atom").Posts
	if len(atom.Entries) != len(posts) || len(js.Items) != len(posts) {
		t.Fatalf("%d atom entries, %d json items, want %d", len(atom.Entries), len(js.Items), len(posts))
	}
	for i, p := range posts {
		want := p.Author
		if want == "" && len(p.Sources) > 0 {
			f := testFeed("atom")
			want = f.author(&p)
		}
		if a := atom.Entries[i].Author; a == nil || a.Name != want || want == "" {
			t.Errorf("atom entry %d: author %v, want %q", i, a, want)
		}
		if a := js.Items[i].Authors; len(a) != 1 || a[0].Name != want {
			t.Errorf("json item %d: authors %v, want %q", i, a, want)
		}
	}
}

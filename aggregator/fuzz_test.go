package aggregator

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzPipeline feeds arbitrary bytes through decode → parse → normalise
// (which sanitises). It must not panic, and what comes out must be valid
// UTF-8 without scripts.
func FuzzPipeline(f *testing.F) {
	for _, name := range []string{"rss2.xml", "rss1.xml", "atom.xml", "feed.json", "page.html"} {
		f.Add(readTestdata(f, name), "")
	}
	f.Add([]byte(`<?xml version="1.0" encoding="gbk"?><rss><channel><item><title>`+"\xb0\xa1"+`</title></item></channel></rss>`), "text/xml; charset=gbk")
	f.Add([]byte(`<rss><channel><item><description>&lt;script&gt;alert(1)&lt;/script&gt;</description></item></channel></rss>`), "")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		b, err := toUTF8(body, contentType)
		if err != nil {
			return
		}
		if !utf8.Valid(b) {
			t.Fatalf("decode gave invalid UTF-8")
		}
		feed, err := parse(b)
		if err != nil {
			return
		}
		posts, _ := normalise(feed, src("s", ""), "https://example.org/feed", testNow, shanghai)
		for _, p := range posts {
			for _, s := range []string{p.Title, p.Content, p.Summary, p.Author, p.Link, p.Image, p.Key} {
				if !utf8.ValidString(s) {
					t.Errorf("invalid UTF-8: %q", s)
				}
			}
			for _, s := range []string{p.Content, p.Summary} {
				if strings.Contains(strings.ToLower(s), "<script") {
					t.Errorf("script survived: %q", s)
				}
			}
			if p.Key == "" || p.ID == "" || p.Published.IsZero() {
				t.Errorf("post without key, id or date: %+v", p)
			}
		}
	})
}

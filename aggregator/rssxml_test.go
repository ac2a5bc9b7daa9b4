package aggregator

import (
	"strings"
	"testing"
)

// RSS xml:base resolves an item's relative link and the relative URLs of
// its content; an XHTML body is the content of an item without one.
func TestRSSXMLBaseAndXHTMLBody(t *testing.T) {
	rss := func(channelAttr, items string) []byte {
		return []byte(`<?xml version="1.0"?><rss version="2.0" xmlns:xhtml="http://www.w3.org/1999/xhtml"><channel ` + channelAttr +
			`><title>c</title><link>https://ex.org/</link>` + items + `</channel></rss>`)
	}
	tests := []struct {
		name, doc        string
		link, contentHas string
	}{
		{"channel base", string(rss(`xml:base="https://ex.org/news/"`,
			`<item><title>t</title><link>a.html</link><description>&lt;img src="i.png"&gt; text</description></item>`)),
			"https://ex.org/news/a.html", `src="https://ex.org/news/i.png"`},
		{"item base over the channel's", string(rss(`xml:base="https://ex.org/news/"`,
			`<item xml:base="/2025/"><title>t</title><link>b.html</link><description>&lt;a href="c.html"&gt;c&lt;/a&gt;</description></item>`)),
			"https://ex.org/2025/b.html", `href="https://ex.org/2025/c.html"`},
		{"description's own base", string(rss(``,
			`<item><title>t</title><link>https://ex.org/p/1</link><description xml:base="https://cdn.ex.org/img/">&lt;img src="x.png"&gt;</description></item>`)),
			"https://ex.org/p/1", `src="https://cdn.ex.org/img/x.png"`},
		{"xhtml body, prefixed", string(rss(``,
			`<item><title>t</title><link>https://ex.org/x</link><xhtml:body><xhtml:p>Hello <xhtml:b>world</xhtml:b></xhtml:p></xhtml:body></item>`)),
			"https://ex.org/x", "world"},
		{"xhtml body, default namespace", string(rss(``,
			`<item><title>t</title><link>https://ex.org/y</link><body xmlns="http://www.w3.org/1999/xhtml"><p>Hi <em>there</em></p></body></item>`)),
			"https://ex.org/y", "<em>there</em>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			posts := pipeline(t, []byte(tt.doc), src("s", ""), "https://ex.org/feeds/main.xml", testNow)
			if len(posts) != 1 {
				t.Fatalf("%d posts", len(posts))
			}
			p := posts[0]
			if p.Link != tt.link || !strings.Contains(p.Content+p.Summary, tt.contentHas) {
				t.Errorf("link %q content %q; want %q and content with %q", p.Link, p.Content+p.Summary, tt.link, tt.contentHas)
			}
		})
	}
}

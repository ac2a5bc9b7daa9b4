package aggregator

import (
	"strings"
	"testing"
)

// What other readers find in an item, refeed finds too: a permalink GUID as
// the link of an item without one, and Media RSS titles and descriptions.
func TestFixup(t *testing.T) {
	const media = `xmlns:media="http://search.yahoo.com/mrss/"`
	tests := []struct {
		name                    string
		item                    string
		link, title, contentHas string
	}{
		{"permalink guid, no attribute", `<item><title>t</title><guid>https://ex.org/a/1</guid></item>`,
			"https://ex.org/a/1", "t", ""},
		{"permalink guid, true", `<item><title>t</title><guid isPermaLink="true">https://ex.org/a/2</guid></item>`,
			"https://ex.org/a/2", "t", ""},
		{"not a permalink", `<item><title>t</title><guid isPermaLink="false">https://ex.org/a/3</guid></item>`,
			"", "t", ""},
		{"guid that is no URL", `<item><title>t</title><guid>tag:ex.org,2025:4</guid></item>`,
			"", "t", ""},
		{"link wins over guid", `<item><title>t</title><link>https://ex.org/real</link><guid>https://ex.org/guid</guid></item>`,
			"https://ex.org/real", "t", ""},
		{"youtube-style media:group", `<item><link>https://ex.org/v</link><media:group><media:title>视频标题</media:title>` +
			`<media:description>第一行 &amp; more` + "\n" + `second line &lt;b&gt;</media:description></media:group></item>`,
			"https://ex.org/v", "视频标题", "第一行 &amp; more<br>second line &lt;b&gt;"},
		{"media:description type html", `<item><title>t</title><link>https://ex.org/h</link>` +
			`<media:description type="html">&lt;p&gt;&lt;b&gt;bold&lt;/b&gt;&lt;/p&gt;</media:description></item>`,
			"https://ex.org/h", "t", "<p><b>bold</b></p>"},
		{"own description wins", `<item><title>t</title><link>https://ex.org/o</link><description>own</description>` +
			`<media:description>media</media:description></item>`,
			"https://ex.org/o", "t", "own"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `<?xml version="1.0"?><rss version="2.0" ` + media + `><channel><title>c</title><link>https://ex.org/</link>` +
				tt.item + `</channel></rss>`
			posts := pipeline(t, []byte(body), src("s", ""), "https://ex.org/feed", testNow)
			if len(posts) != 1 {
				t.Fatalf("%d posts", len(posts))
			}
			p := posts[0]
			if p.Link != tt.link || p.Title != tt.title || !strings.Contains(p.Content, tt.contentHas) {
				t.Errorf("link %q title %q content %q; want %q, %q, containing %q", p.Link, p.Title, p.Content, tt.link, tt.title, tt.contentHas)
			}
		})
	}
}

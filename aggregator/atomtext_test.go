package aggregator

import (
	"encoding/base64"
	"strings"
	"testing"
)

// Atom text constructs are text: their characters are republished, never
// read as markup; html and xhtml ones are markup; Atom 0.3 base64 content
// is decoded.
func TestAtomTextConstructs(t *testing.T) {
	const atom10 = `<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>f</title><id>urn:f</id><updated>2025-03-01T00:00:00Z</updated>`
	entry := func(inner string) string {
		return atom10 + `<entry><id>urn:e</id><updated>2025-03-01T00:00:00Z</updated><link href="https://ex.org/e"/>` + inner + `</entry></feed>`
	}
	html := base64.StdEncoding.EncodeToString([]byte(`<p>decoded <b>html</b></p>`))
	tests := []struct {
		name, doc       string
		title           string
		content, absent string // content must contain content and not absent
	}{
		{"text title", entry(`<title type="text">Why &lt;script&gt; tags block rendering</title><content type="html">&lt;p&gt;x&lt;/p&gt;</content>`),
			"Why <script> tags block rendering", "<p>x</p>", ""},
		{"default-type title", entry(`<title>1 &lt; 2 &amp; 3</title><content type="html">&lt;p&gt;x&lt;/p&gt;</content>`),
			"1 < 2 & 3", "<p>x</p>", ""},
		{"html title", entry(`<title type="html">A &lt;b&gt;bold&lt;/b&gt; claim</title><content type="html">&lt;p&gt;x&lt;/p&gt;</content>`),
			"A bold claim", "<p>x</p>", ""},
		{"text content", entry(`<title>t</title><content type="text">Use &lt;b&gt; for bold</content>`),
			"t", "Use &lt;b&gt; for bold", "<b>"},
		{"default-type content", entry(`<title>t</title><content>a &lt;i&gt;b&lt;/i&gt;</content>`),
			"t", "a &lt;i&gt;b&lt;/i&gt;", "<i>"},
		{"xhtml content", entry(`<title>t</title><content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>x <b>y</b></p></div></content>`),
			"t", "<b>y</b>", ""},
		{"text summary", entry(`<title>t</title><summary>&lt;script&gt; is a tag</summary>`),
			"t", "&lt;script&gt; is a tag", "<script"},
		{"atom 0.3 base64", `<?xml version="1.0"?><feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>f</title>` +
			`<entry><title>t</title><link rel="alternate" href="https://ex.org/e"/><id>urn:e</id><issued>2025-03-01T00:00:00Z</issued>` +
			`<content type="text/html" mode="base64">` + html + `</content></entry></feed>`,
			"t", "decoded <b>html</b>", html},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			posts := pipeline(t, []byte(tt.doc), src("s", ""), "https://ex.org/feed", testNow)
			if len(posts) != 1 {
				t.Fatalf("%d posts", len(posts))
			}
			p := posts[0]
			body := p.Content + p.Summary
			if p.Title != tt.title || !strings.Contains(body, tt.content) || (tt.absent != "" && strings.Contains(body, tt.absent)) {
				t.Errorf("title %q, body %q; want %q and a body with %q without %q", p.Title, body, tt.title, tt.content, tt.absent)
			}
		})
	}
}

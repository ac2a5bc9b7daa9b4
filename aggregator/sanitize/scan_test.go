package sanitize

import (
	"github.com/refeed/refeed/storage/htmltext"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// postProcessTokenizer is postProcess as it was written first, over the
// x/net/html tokenizer: the reference for the scanner.
func postProcessTokenizer(s string, base *url.URL) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	z := html.NewTokenizer(strings.NewReader(s))
	skipIframe := 0
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		switch tt {
		case html.StartTagToken, html.SelfClosingTagToken:
			if skipIframe == 0 && !rewrites(rawTagName(z.Raw())) {
				b.Write(z.Raw()) // nothing to fix: skip building a Token
				continue
			}
			tok := z.Token()
			if tok.Data == "iframe" && skipIframe > 0 {
				skipIframe++
				continue
			}
			if skipIframe > 0 {
				continue
			}
			keep := fixTag(&tok, base)
			if !keep {
				if tok.Data == "iframe" && tt == html.StartTagToken {
					skipIframe = 1
				}
				continue
			}
			tok.Type = html.StartTagToken // <img/> and <img> alike render as <img>
			b.WriteString(tok.String())
		case html.EndTagToken:
			if skipIframe > 0 {
				if name, _ := z.TagName(); string(name) == "iframe" {
					skipIframe--
				}
				continue
			}
			b.Write(z.Raw())
		default:
			if skipIframe > 0 {
				continue
			}
			b.Write(z.Raw())
		}
	}
	return b.String()
}

// rawTagName returns the lower-case name of the raw start tag raw ("<a ...").
func rawTagName(raw []byte) string {
	i := 1
	for i < len(raw) && raw[i] != ' ' && raw[i] != '/' && raw[i] != '>' && raw[i] != '\t' && raw[i] != '\n' {
		i++
	}
	return strings.ToLower(string(raw[1:i]))
}

// scanSeeds are inputs for the scanner tests: markup bluemonday keeps,
// rewrites and drops.
var scanSeeds = []string{
	"",
	"plain &amp; simple",
	`<p>Full <a href="/other.html" title='t"q'>article</a> with <img src="img/a.png" srcset="img/a.png 1x, img/a@2x.png 2x"/></p>`,
	`<p>a<br>b<br/>c</p><ul><li>one</li><li>two</li></ul><table><tr><td>x</td><td>y</td></tr></table>`,
	`<iframe src="https://www.youtube.com/embed/x" allowfullscreen></iframe><iframe src="https://evil.example/"><p>in</p></iframe>after`,
	`<IMG SRC="x.png" ALT="A &amp; B"><img alt="no src"><img src="data:image/png;base64,iVBO=">`,
	`<blockquote cite="/q">quoted</blockquote><q cite="javascript:x">q</q><del cite="d">d</del>`,
	`x<script>bad()</script>y<style>p{}</style>z<!-- c --><noscript>n</noscript>`,
	"中文&nbsp;标题 \xff\xfe 5 < 6 & 7 > 3 &lt;b&gt;",
	`<a href="https://a.example/?q=1&amp;r=2#f">A</a><a>no href</a><a href="mailto:x@y.example">m</a>`,
	`<pre><code>if a < b { return "x" }</code></pre><h2>T</h2><div><span>s</span></div>`,
	"<p>\r\nline\rbreak\t\x00nul</p>",
}

func TestPostProcessMatchesTokenizer(t *testing.T) {
	for _, in := range scanSeeds {
		checkScan(t, in)
	}
}

func FuzzPostProcess(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) { checkScan(t, in) })
}

// checkScan checks the scanner against the tokenizer on what sanitized
// makes of in: the same HTML, and the text Text finds in it.
func checkScan(t *testing.T, in string) {
	t.Helper()
	for _, b := range []*url.URL{base, nil} {
		clean := sanitized(in)
		want := postProcessTokenizer(clean, b)
		if got := postProcess(clean, b, nil); got != want {
			t.Errorf("postProcess(%q)\n got %q\nwant %q", clean, got, want)
		}
		html, text := HTMLText(in, b, -1)
		if html != want && in != "" {
			t.Errorf("HTMLText(%q) html %q, want %q", in, html, want)
		}
		wantText := htmltext.Text(want)
		if text != wantText {
			t.Errorf("HTMLText(%q) text %q, want htmltext.Text(%q) = %q", in, text, want, wantText)
		}
		// A limited text is a prefix of the whole text, at least limit
		// bytes long unless it is all of it, cut on a rune boundary.
		for _, limit := range []int{0, 1, 2, 7, 40, 1 << 20} {
			html, text := HTMLText(in, b, limit)
			if html != want && in != "" {
				t.Errorf("HTMLText(%q, %d) html %q, want %q", in, limit, html, want)
			}
			if !strings.HasPrefix(wantText, text) || len(text) < min(limit, len(wantText)) || !utf8.ValidString(text) {
				t.Errorf("HTMLText(%q, %d) text %q, want a prefix of %q of at least %d bytes", in, limit, text, wantText, limit)
			}
		}
	}
}

func BenchmarkHTMLText(b *testing.B) {
	in := strings.Repeat(scanSeeds[2]+scanSeeds[3]+scanSeeds[10], 20)
	b.Run("HTML+Text", func(b *testing.B) {
		for b.Loop() {
			_ = htmltext.Text(HTML(in, base))
		}
	})
	b.Run("HTMLText", func(b *testing.B) {
		for b.Loop() {
			_, _ = HTMLText(in, base, -1)
		}
	})
}

func BenchmarkPostProcess(b *testing.B) {
	clean := policy().Sanitize(strings.Repeat(scanSeeds[2]+scanSeeds[3]+scanSeeds[10]+"<p>国家税务总局发布关于进一步优化增值税发票管理的公告，明确了纳税人申领、开具发票的具体要求。</p>", 20))
	b.Run("tokenizer+Text", func(b *testing.B) {
		for b.Loop() {
			_ = htmltext.Text(postProcessTokenizer(clean, base))
		}
	})
	b.Run("scanner", func(b *testing.B) {
		for b.Loop() {
			var t textBuilder
			_ = postProcess(clean, base, &t)
		}
	})
}

// htmltext.Scan, the tokenizer-free text that searches match terms in,
// finds a term without white space in sanitised HTML exactly where
// htmltext.Text does.
func FuzzScan(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add(s, "a")
	}
	f.Add("<p>a</p><p>b</p>", "ab")
	f.Add("<p>x &amp; y<br>z</p>", "&")
	f.Add(`<a href="https://x/?a=1&amp;b=2">l</a>i<!-- c -->nk`, "link")
	f.Fuzz(func(t *testing.T, in, term string) {
		term = strings.Join(strings.Fields(term), "")
		if term == "" || !utf8.ValidString(in) || !utf8.ValidString(term) {
			return // stored posts are valid UTF-8 (toUTF8)
		}
		clean := HTML(in, nil)
		text, scan := htmltext.Text(clean), htmltext.Scan(clean)
		if strings.Contains(text, term) != strings.Contains(scan, term) {
			t.Errorf("term %q in %q: Text %q, Scan %q", term, clean, text, scan)
		}
	})
}

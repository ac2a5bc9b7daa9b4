package sanitize

import (
	"github.com/refeed/refeed/storage/htmltext"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

var base, _ = url.Parse("https://example.org/news/2025/item.html")

// dangerous matches anything that would run script or leave the page in a
// sanitised fragment.
var dangerous = regexp.MustCompile(`(?i)<script|<style|<svg|<math|<form|<input|<button|<object|<embed|<base|<meta|<link|<textarea|<[^>]*\s(?:on[a-z]+|style|srcdoc|formaction)\s*=|="\s*(?:javascript|vbscript|livescript|data:text|data:image/svg)|,\s*(?:javascript|vbscript):|<iframe[^>]*src="(?:https?:)?//(?:evil|example)`)

func TestHTMLNeutralisesXSS(t *testing.T) {
	payloads := []string{
		`<script>alert(1)</script>`,
		`<SCRIPT SRC=//evil.example/x.js></SCRIPT>`,
		`<scr<script>ipt>alert(1)</script>`,
		`<img src=x onerror=alert(1)>`,
		`<img src="x" ONERROR="alert(1)">`,
		`<img src=x onerror="javascript:alert(1)"//`,
		`<svg onload=alert(1)>`,
		`<svg><script>alert(1)</script></svg>`,
		`<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>`,
		`<a href="javascript:alert(1)">x</a>`,
		`<a href="JaVaScRiPt:alert(1)">x</a>`,
		`<a href="  javascript:alert(1)">x</a>`,
		`<a href="jav&#x09;ascript:alert(1)">x</a>`,
		`<a href="jav&#x0A;ascript:alert(1)">x</a>`,
		`<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>`,
		`<a href="javascript&colon;alert(1)">x</a>`,
		`<a href="vbscript:msgbox(1)">x</a>`,
		`<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>`,
		`<a href="data:image/png;base64,iVBORw0KGgo=">x</a>`,
		`<img src="data:text/html,<script>alert(1)</script>">`,
		`<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">`,
		`<div style="width: expression(alert(1))">x</div>`,
		`<p style="background:url(javascript:alert(1))">x</p>`,
		`<meta http-equiv="refresh" content="0;url=javascript:alert(1)">`,
		`<base href="https://evil.example/">`,
		`<form action="https://evil.example/"><input name=p><button formaction="javascript:alert(1)">go</button></form>`,
		`<iframe src="https://evil.example/"></iframe>`,
		`<iframe src="javascript:alert(1)"></iframe>`,
		`<iframe srcdoc="<script>alert(1)</script>"></iframe>`,
		`<iframe src="https://www.youtube.com.evil.example/embed/x"></iframe>`,
		`<object data="https://evil.example/x.swf"></object>`,
		`<embed src="https://evil.example/x.swf">`,
		`<link rel="stylesheet" href="https://evil.example/x.css">`,
		`<style>@import "https://evil.example/x.css";</style>`,
		`<body onload=alert(1)>`,
		`<details open ontoggle=alert(1)>`,
		`<video><source onerror="alert(1)"></video>`,
		`<a href="#" onclick="alert(1)">x</a>`,
		`<div><p><a href="java` + "\x00" + `script:alert(1)">x</a></p></div>`,
		`<img srcset="javascript:alert(1) 1x, https://ok.example/a.png 2x">`,
		`<a href="//evil.example/%0Ajavascript:alert(1)">x</a>`,
		`"><script>alert(1)</script>`,
		`<!--<script>alert(1)</script>-->`,
		`<textarea><script>alert(1)</script></textarea>`,
		`<noscript><p title="</noscript><img src=x onerror=alert(1)>">`,
		`<a href="https://ok.example/" target="_blank" rel="opener">x</a>`,
	}
	for _, p := range payloads {
		got := HTML(p, base)
		if dangerous.MatchString(got) {
			t.Errorf("HTML(%q) = %q: still dangerous", p, got)
		}
		if !utf8.ValidString(got) {
			t.Errorf("HTML(%q) not UTF-8", p)
		}
		if strings.Contains(got, "<a ") && !strings.Contains(got, `rel="nofollow noopener"`) {
			t.Errorf("HTML(%q) = %q: link without rel", p, got)
		}
	}
	if len(payloads) < 30 {
		t.Fatalf("only %d payloads", len(payloads))
	}
}

func TestHTMLKeeps(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"article markup", `<h2>T</h2><p>a <em>b</em> <strong>c</strong><br>d</p><ul><li>x</li></ul><blockquote>q</blockquote><pre><code>x := 1</code></pre>`,
			`<h2>T</h2><p>a <em>b</em> <strong>c</strong><br>d</p><ul><li>x</li></ul><blockquote>q</blockquote><pre><code>x := 1</code></pre>`},
		{"table", `<table><caption>c</caption><thead><tr><th colspan="2">h</th></tr></thead><tbody><tr><td>1</td><td>2</td></tr></tbody></table>`,
			`<table><caption>c</caption><thead><tr><th colspan="2">h</th></tr></thead><tbody><tr><td>1</td><td>2</td></tr></tbody></table>`},
		{"relative link", `<a href="../a.html" title="t">x</a>`, `<a href="https://example.org/news/a.html" title="t" rel="nofollow noopener">x</a>`},
		{"root-relative img", `<img src="/i/a.png" alt="A" width="10" height="20">`, `<img src="https://example.org/i/a.png" alt="A" width="10" height="20">`},
		{"protocol-relative", `<img src="//cdn.example.net/a.png">`, `<img src="https://cdn.example.net/a.png">`},
		{"srcset", `<img src="a.png" srcset="a.png 1x, /b.png 2x,c.png 640w">`, `<img src="https://example.org/news/2025/a.png" srcset="https://example.org/news/2025/a.png 1x, https://example.org/b.png 2x, https://example.org/news/2025/c.png 640w">`},
		{"mailto", `<a href="mailto:a@b.c">m</a>`, `<a href="mailto:a@b.c" rel="nofollow noopener">m</a>`},
		{"data image", `<img src="data:image/png;base64,iVBORw0KGgo=">`, `<img src="data:image/png;base64,iVBORw0KGgo=">`},
		{"figure", `<figure><img src="a.png"><figcaption>cap</figcaption></figure>`, `<figure><img src="https://example.org/news/2025/a.png"><figcaption>cap</figcaption></figure>`},
		{"youtube", `<iframe src="https://www.youtube.com/embed/abc" width="560" height="315" allowfullscreen onload="x()"></iframe>`,
			`<iframe src="https://www.youtube.com/embed/abc" width="560" height="315" allowfullscreen="" sandbox="allow-scripts allow-same-origin allow-presentation allow-popups"></iframe>`},
		{"bilibili", `<iframe src="//player.bilibili.com/player.html?bvid=BV1"></iframe>`,
			`<iframe src="https://player.bilibili.com/player.html?bvid=BV1" sandbox="allow-scripts allow-same-origin allow-presentation allow-popups"></iframe>`},
		// What is inside an iframe is raw text to the parser, never shown by a
		// browser: it goes with the iframe, and with a kept one's content.
		{"evil iframe gone", `a<iframe src="https://evil.example/">inner</iframe>b`, `ab`},
		{"iframe markup is not republished as text", `<p>x</p><iframe src="https://evil.example/"><b>inner</b> text</iframe><p>after</p>`,
			`<p>x</p><p>after</p>`},
		{"kept iframe emptied", `<IFRAME src="https://www.youtube.com/embed/abc"><b>fallback</b></IFRAME><p>after</p>`,
			`<iframe src="https://www.youtube.com/embed/abc" sandbox="allow-scripts allow-same-origin allow-presentation allow-popups"></iframe><p>after</p>`},
		{"unclosed iframe keeps what follows", `<p>x</p><iframe src="https://evil.example/"><p>rest</p>`, `<p>x</p><p>rest</p>`},
		// Void elements that are dropped must not take what follows with them.
		{"void embed", `<p>Watch: <embed src="https://x.example/a.swf"></p><p>All the text…</p>`, `<p>Watch: </p><p>All the text…</p>`},
		{"self-closed embed", `<p>a<embed src="x"/>b</p><p>c</p>`, `<p>ab</p><p>c</p>`},
		{"void frame", `<p>A <frame src="x.html"> B</p><p>C</p>`, `<p>A  B</p><p>C</p>`},
		{"object with an embed", `<object data="x"><param name="a" value="b"><embed src="y"></object><p>after</p>`, `<p>after</p>`},
		{"script content gone", `a<script>alert(1)</script>b`, `ab`},
		{"chinese text", `<p>中文内容</p>`, `<p>中文内容</p>`},
		{"img without src dropped", `<img alt="x">`, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HTML(tt.in, base); got != tt.want {
				t.Errorf("\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestHTMLNoBase(t *testing.T) {
	if got, want := HTML(`<a href="x.html">x</a>`, nil), `<a href="x.html" rel="nofollow noopener">x</a>`; got != want {
		t.Errorf("got %s want %s", got, want)
	}
}

func TestText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain  text\n", "plain text"},
		{"AT&amp;T", "AT&T"},
		{"&amp;amp;", "&amp;"},
		{"<p>a</p><p>b</p>", "a b"},
		{"x<script>bad()</script>y", "xy"},
		{"5 < 6 and 7 > 3", "5 < 6 and 7 > 3"},
		{"中文&nbsp;标题", "中文 标题"},
	}
	for _, tt := range tests {
		if got := htmltext.Text(tt.in); got != tt.want {
			t.Errorf("htmltext.Text(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzSanitize(f *testing.F) {
	for _, s := range []string{`<a href="javascript:alert(1)">x</a>`, `<img src=x onerror=alert(1)>`, `<p>ok</p>`,
		`<iframe src="https://www.youtube.com/embed/x"></iframe>`, `<img srcset="a 1x, b 2x">`, "\xff\xfe<scr\x00ipt>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := HTML(in, base)
		if !utf8.ValidString(out) && utf8.ValidString(in) {
			t.Errorf("invalid UTF-8 out of valid input")
		}
		if strings.Contains(strings.ToLower(out), "<script") {
			t.Errorf("script survived: %q → %q", in, out)
		}
		if dangerous.MatchString(out) {
			t.Errorf("dangerous output: %q → %q", in, out)
		}
		// Idempotent enough: a second pass must not find anything new to remove.
		if again := HTML(out, base); dangerous.MatchString(again) {
			t.Errorf("second pass dangerous: %q", again)
		}
		_ = htmltext.Text(in)
	})
}

var resolveSeeds = []string{
	"https://s000.example.com/news/27767.html", "http://example.com", "https://example.com/",
	"https://Example.COM:8080/a/b-c_d~e.f/", "/images/000/000-1.jpg", "/", "/a//b", "/a/./b", "/a/../b", "/a/..",
	"/a/.", "/.hidden/x", "/a/b..c", "//cdn.example.com/x.js", "/a?b=c", "/a#f", "/a%20b", "https://a/b?c", "https://u@a/b",
	"https://a/b/../c", "https://a//b", "https:///x", "http://[::1]/x", "/中文/路径", "relative.html", "javascript:alert(1)",
}

func TestResolvePlain(t *testing.T) {
	for _, raw := range resolveSeeds {
		checkResolve(t, raw)
	}
}

func FuzzResolvePlain(f *testing.F) {
	for _, s := range resolveSeeds {
		f.Add(s)
	}
	f.Fuzz(checkResolve)
}

// checkResolve checks resolve against resolveParsed (no shortcut) for raw, against bases
// with and without the shortcut's conditions.
func checkResolve(t *testing.T, raw string) {
	for _, b := range []string{"https://s000.example.com/2025/01/article-000.html", "http://example.org", "https://u:p@example.org/x/",
		"https://EXAMPLE.org:8443/a/b", "ftp://example.org/", "https://[::1]/x", ""} {
		var base *url.URL
		if b != "" {
			base, _ = url.Parse(b)
		}
		for _, dataOK := range []bool{false, true} {
			got, gotOK := resolve(raw, base, dataOK)
			want, wantOK := "", false
			if trimmed := strings.TrimSpace(raw); trimmed != "" {
				want, wantOK = resolveParsed(trimmed, base, dataOK)
			}
			if got != want || gotOK != wantOK {
				t.Errorf("resolve(%q, %q) = %q, %v; want %q, %v", raw, b, got, gotOK, want, wantOK)
			}
		}
	}
}

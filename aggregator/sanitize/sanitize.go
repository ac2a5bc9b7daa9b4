// Package sanitize cleans HTML taken from feeds before refeed stores and
// republishes it: scripts, event handlers, forms, styles and dangerous URLs go;
// article markup, images, links and a few video embeds stay; relative URLs are
// made absolute.
package sanitize

import (
	"bytes"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
)

// iframeSrc lists the video players whose iframes survive. Anything else in an
// iframe is dropped along with the iframe.
var iframeSrc = regexp.MustCompile(`^(?:https?:)?//(?:www\.youtube\.com/embed/|www\.youtube-nocookie\.com/embed/|player\.vimeo\.com/video/|player\.bilibili\.com/player\.html)`)

// descriptor is a srcset width or density descriptor.
var descriptor = regexp.MustCompile(`^[0-9.]+[wx]$`)

// iframeSandbox is the sandbox every kept iframe gets: enough for the players
// to run, nothing that lets them navigate the page or open forms.
const iframeSandbox = "allow-scripts allow-same-origin allow-presentation allow-popups"

// linkRel is set on every link: republished articles must not pass ranking to,
// or hand window.opener to, whatever they link.
const linkRel = "nofollow noopener"

// policy is built once: a bluemonday.Policy is read-only after construction
// and safe for concurrent use, so sharing it is not shared mutable state.
var policy = sync.OnceValue(newPolicy)

func newPolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements(
		"h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr",
		"ul", "ol", "li", "dl", "dt", "dd",
		"table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption",
		"figure", "figcaption", "pre", "code", "kbd", "samp", "blockquote",
		"em", "strong", "b", "i", "u", "s", "sub", "sup", "mark", "small",
		"span", "div", "del", "ins", "q", "cite", "abbr",
	)
	p.AllowAttrs("href", "title").OnElements("a")
	p.AllowAttrs("src", "srcset", "alt", "title").OnElements("img")
	dim := regexp.MustCompile(`^[0-9]{1,5}(?:%|px)?$`)
	p.AllowAttrs("width", "height").Matching(dim).OnElements("img", "iframe")
	p.AllowAttrs("colspan", "rowspan").Matching(regexp.MustCompile(`^[0-9]{1,3}$`)).OnElements("td", "th")
	p.AllowAttrs("cite").OnElements("blockquote", "q", "del", "ins")
	p.AllowAttrs("title").OnElements("abbr")
	p.AllowAttrs("src").Matching(iframeSrc).OnElements("iframe")
	p.AllowAttrs("allowfullscreen").Matching(regexp.MustCompile(`^(?:|allowfullscreen|true)$`)).OnElements("iframe")
	p.AllowIFrames(bluemonday.SandboxAllowScripts, bluemonday.SandboxAllowSameOrigin,
		bluemonday.SandboxAllowPresentation, bluemonday.SandboxAllowPopups)
	// Void elements (embed, frame) have no content to skip: skipping them
	// would skip everything after them.
	p.AllowElementsContent("embed", "frame")
	p.SkipElementsContent("object", "noscript", "template", "iframe")
	p.AllowURLSchemes("http", "https", "mailto")
	p.AllowURLSchemeWithCustomPolicy("data", imageData)
	p.AllowRelativeURLs(true)
	return p
}

// imageData reports whether u is a data: URL of a raster image type. Whether
// it sits in an img src is checked after bluemonday, which cannot tell.
func imageData(u *url.URL) bool {
	o := strings.ToLower(u.Opaque)
	for _, t := range []string{"image/png", "image/jpeg", "image/jpg", "image/gif", "image/webp"} {
		if strings.HasPrefix(o, t+";") || strings.HasPrefix(o, t+",") {
			return true
		}
	}
	return false
}

// HTML returns s made safe to republish. URLs in href, src, srcset and cite
// are resolved against base (nil: relative URLs stay relative); only http,
// https and mailto survive, plus data: images in img src. Links get
// rel="nofollow noopener"; iframes only from YouTube, Vimeo and Bilibili.
func HTML(s string, base *url.URL) string {
	if s == "" {
		return ""
	}
	return postProcess(sanitized(s), base, nil)
}

// HTMLText returns HTML(s, base) and its plain text, Text(HTML(s, base)),
// computed in the same pass over the sanitised markup. A caller that needs
// only the beginning of the text says how much with limit: the text is then
// cut after at least limit bytes (a prefix of the whole text, or all of it
// when shorter), which saves collecting the text of a long article to
// compare its first sentence. A negative limit means all of it.
func HTMLText(s string, base *url.URL, limit int) (clean, text string) {
	if s == "" {
		return "", ""
	}
	t := textBuilder{limit: limit}
	if limit < 0 || limit > len(s) {
		limit = len(s) // text is most of an article: growing from less costs more
	}
	t.b.Grow(limit)
	clean = postProcess(sanitized(s), base, &t)
	return clean, t.String()
}

// buffers holds bluemonday's output buffers between calls, so that each call
// does not grow a new one from nothing. Buffers larger than maxPooled are
// left to the collector rather than kept.
var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooled = 256 << 10

// sanitized is policy().Sanitize(s), written into a pooled buffer.
func sanitized(s string) string {
	if strings.TrimSpace(s) == "" {
		return s
	}
	if hasTagFold(s, "iframe") {
		s = emptyIframes(s)
	}
	buf := buffers.Get().(*bytes.Buffer)
	buf.Reset()
	buf.Grow(len(s))
	var out string
	if err := policy().SanitizeReaderToWriter(strings.NewReader(s), buf); err == nil {
		out = buf.String()
	}
	if buf.Cap() <= maxPooled {
		buffers.Put(buf)
	}
	return out
}

// hasTagFold reports whether s may hold a start tag name (ASCII, lower
// case), in any case: "<" followed by name.
func hasTagFold(s, name string) bool {
	for i := strings.IndexByte(s, '<'); i >= 0; {
		if rest := s[i+1:]; len(rest) >= len(name) && strings.EqualFold(rest[:len(name)], name) {
			return true
		}
		j := strings.IndexByte(s[i+1:], '<')
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}

// emptyIframes drops what is inside iframe elements: to the HTML parser it
// is raw text, so bluemonday republishes its markup as literal text
// ("&lt;b&gt;…") whether it keeps the iframe or drops it, and browsers
// never show it. Everything else passes through byte for byte. An iframe
// left open to the end loses its start tag instead, and what follows it is
// kept as markup.
func emptyIframes(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	z := html.NewTokenizer(strings.NewReader(s))
	pos, start, tagLen := 0, 0, 0 // start: offset of the open iframe's tag
	in := false
	for {
		tt := z.Next()
		raw := z.Raw()
		if tt == html.ErrorToken {
			if in {
				b.WriteString(s[start+tagLen:])
			}
			return b.String()
		}
		switch tt {
		case html.StartTagToken, html.EndTagToken:
			if name, _ := z.TagName(); string(name) == "iframe" {
				if tt == html.StartTagToken && !in {
					in, start, tagLen = true, pos, len(raw)
					pos += len(raw)
					continue
				}
				if tt == html.EndTagToken && in {
					b.WriteString(s[start : start+tagLen])
					in = false
				}
				b.Write(raw)
				pos += len(raw)
				continue
			}
		}
		if !in {
			b.Write(raw)
		}
		pos += len(raw)
	}
}

// rewrites reports whether fixTag has work to do on a tag.
func rewrites(name string) bool {
	switch name {
	case "a", "img", "iframe", "blockquote", "q", "del", "ins":
		return true
	}
	return false
}

// fixTag rewrites tok's URL attributes in place and reports whether the tag
// should be kept at all.
func fixTag(tok *html.Token, base *url.URL) bool {
	attrs := tok.Attr[:0]
	hasSrc := false
	for _, a := range tok.Attr {
		switch a.Key {
		case "href", "src", "cite":
			img := tok.Data == "img" && a.Key == "src"
			v, ok := resolve(a.Val, base, img)
			if !ok {
				continue
			}
			a.Val = v
			if a.Key == "src" {
				hasSrc = true
			}
		case "srcset":
			v := srcset(a.Val, base)
			if v == "" {
				continue
			}
			a.Val = v
		case "rel", "sandbox":
			continue // set below
		}
		attrs = append(attrs, a)
	}
	tok.Attr = attrs
	switch tok.Data {
	case "a":
		tok.Attr = append(tok.Attr, html.Attribute{Key: "rel", Val: linkRel})
	case "img":
		return hasSrc
	case "iframe":
		if !hasSrc {
			return false
		}
		tok.Attr = append(tok.Attr, html.Attribute{Key: "sandbox", Val: iframeSandbox})
	}
	return true
}

// resolve makes raw absolute against base and reports whether the result is
// acceptable: http, https or mailto, data: only when dataOK (img src), or a
// relative URL when there is no base.
func resolve(raw string, base *url.URL, dataOK bool) (string, bool) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", false
	}
	if v, ok := resolvePlain(raw, base); ok {
		return v, true
	}
	return resolveParsed(raw, base, dataOK)
}

// resolveParsed is resolve by parsing raw and, when it is relative,
// resolving it against base: what resolve does for the URLs resolvePlain
// does not know, and the reference FuzzResolvePlain checks that against.
// raw is trimmed and not empty.
func resolveParsed(raw string, base *url.URL, dataOK bool) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", false
	}
	if u.Scheme == "" && base != nil {
		u = base.ResolveReference(u)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "mailto":
		return u.String(), true
	case "data":
		if dataOK && imageData(u) {
			return u.String(), true
		}
		return "", false
	case "":
		return u.String(), base == nil
	}
	return "", false
}

// srcset resolves every candidate of a srcset attribute ("url [descriptor],
// ..."), dropping those that are not http(s).
func srcset(v string, base *url.URL) string {
	var out []string
	for _, cand := range strings.Split(v, ",") {
		f := strings.Fields(cand)
		if len(f) == 0 || len(f) > 2 {
			continue
		}
		u, ok := resolve(f[0], base, false)
		if !ok || strings.HasPrefix(u, "mailto:") {
			continue
		}
		if len(f) == 2 {
			if !descriptor.MatchString(f[1]) {
				continue
			}
			u += " " + f[1]
		}
		out = append(out, u)
	}
	return strings.Join(out, ", ")
}

// resolvePlain is resolve's shortcut for the URLs most articles are made
// of: an absolute http(s) URL, or a path from the root against an http(s)
// base, made of characters that url.Parse and URL.String leave as they are
// and without dot segments or doubled slashes that resolving would clean.
// For those it returns what resolve would (FuzzResolvePlain checks) without
// parsing and reassembling them; ok is false for everything else.
func resolvePlain(raw string, base *url.URL) (string, bool) {
	switch {
	case strings.HasPrefix(raw, "https://"), strings.HasPrefix(raw, "http://"):
		rest := raw[strings.Index(raw, "//")+2:]
		host, path, _ := strings.Cut(rest, "/")
		if host == "" || !plainHost(host) || !plainPath(path) {
			return "", false
		}
		return raw, true
	case len(raw) > 1 && raw[0] == '/' && raw[1] != '/' && base != nil:
		if base.User != nil || base.Opaque != "" || base.Host == "" || !plainHost(base.Host) ||
			(base.Scheme != "https" && base.Scheme != "http") || !plainPath(raw[1:]) {
			return "", false
		}
		return base.Scheme + "://" + base.Host + raw, true
	}
	return "", false
}

// plainHost reports whether a host is letters, digits, dots and hyphens,
// perhaps with a numeric port.
func plainHost(h string) bool {
	name, port, _ := strings.Cut(h, ":")
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(isLetter(c) || '0' <= c && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	for i := 0; i < len(port); i++ {
		if port[i] < '0' || port[i] > '9' {
			return false
		}
	}
	return true
}

// plainPath reports whether p (what follows a path's first slash) is
// unreserved characters and slashes, with no empty, "." or ".." segment
// but perhaps the last one empty.
func plainPath(p string) bool {
	seg := 0 // length of the current segment
	dots := 0
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '/':
			if seg == 0 || dots == seg {
				return false // "//", "/./" or "/../"
			}
			seg, dots = 0, 0
			continue
		case c == '.':
			dots++
		case isLetter(c) || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '~':
		default:
			return false
		}
		seg++
	}
	return seg == 0 || dots != seg
}

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Feed formats, chosen per source: 14 of every 20 sources are RSS 2.0, 5
// Atom and 1 JSON Feed (70/25/5 %).
const (
	formatRSS  = "rss"
	formatAtom = "atom"
	formatJSON = "json"
)

// corpusEpoch is the newest item's date. Fixed, so the corpus is the same
// on every run; it lies in the past, so no date is clamped as "future".
var corpusEpoch = time.Date(2025, 3, 1, 8, 0, 0, 0, time.FixedZone("CST", 8*3600))

// entry is one source of the corpus, as listed in manifest.tsv.
type entry struct {
	Name   string
	File   string // relative to the corpus directory
	Format string
	Items  int
	Bytes  int
}

func formatOf(i int) string {
	switch r := i % 20; {
	case r < 14:
		return formatRSS
	case r < 19:
		return formatAtom
	default:
		return formatJSON
	}
}

// writeCorpus writes sources feeds of items items each under dir/feeds and
// a manifest (name, file, format, items, bytes per line) to dir/manifest.tsv.
func writeCorpus(dir string, sources, items int, seed uint64) ([]entry, error) {
	if err := os.MkdirAll(filepath.Join(dir, "feeds"), 0o755); err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	var out []entry
	for i := range sources {
		e := entry{Name: fmt.Sprintf("src%03d", i), Format: formatOf(i), Items: items}
		g := newGen(seed, i)
		var body []byte
		switch e.Format {
		case formatRSS:
			e.File, body = "feeds/"+e.Name+".xml", g.rss(i, items)
		case formatAtom:
			e.File, body = "feeds/"+e.Name+".atom", g.atom(i, items)
		default:
			e.File, body = "feeds/"+e.Name+".json", g.jsonFeed(i, items)
		}
		e.Bytes = len(body)
		if err := os.WriteFile(filepath.Join(dir, e.File), body, 0o644); err != nil {
			return nil, fmt.Errorf("corpus: %w", err)
		}
		out = append(out, e)
	}
	f, err := os.Create(filepath.Join(dir, "manifest.tsv"))
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	w := bufio.NewWriter(f)
	for _, e := range out {
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%d\n", e.Name, e.File, e.Format, e.Items, e.Bytes)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return nil, fmt.Errorf("corpus: %w", err)
	}
	return out, f.Close()
}

// gen produces the text of one source from its own seeded generator, so
// any source can be regenerated alone and the order does not matter.
type gen struct {
	r *rand.Rand
}

func newGen(seed uint64, source int) *gen {
	return &gen{r: rand.New(rand.NewPCG(seed, uint64(source)+1))}
}

func (g *gen) pick(list []string) string { return list[g.r.IntN(len(list))] }

// item is one generated article.
type item struct {
	guid, link, title, summary, content, author, category string
	date                                                  time.Time
}

func (g *gen) item(src, j int) item {
	host := fmt.Sprintf("s%03d.example.com", src)
	it := item{
		guid:     fmt.Sprintf("urn:refeed-bench:%03d:%03d", src, j),
		link:     fmt.Sprintf("https://%s/%d/%02d/article-%03d.html", host, 2025, 1+j%12, j),
		author:   g.pick(authors),
		category: g.pick(categories),
		date:     corpusEpoch.Add(-time.Duration(src*7+j*53) * time.Minute),
	}
	if g.r.IntN(2) == 0 {
		it.title = fmt.Sprintf("%s（第%d期）", g.pick(zhTitles), j+1)
	} else {
		it.title = fmt.Sprintf("%s, part %d", g.pick(enTitles), j+1)
	}
	if j%7 == 0 {
		it.title += " & Q&A"
	}
	it.summary = "<p>" + g.sentence() + " " + g.sentence() + "</p>"
	it.content = g.article(host, src, j, 2048+g.r.IntN(1001)) // ends 2–4 KB: the last block overshoots
	return it
}

// sentence is one Chinese or English sentence (60% Chinese).
func (g *gen) sentence() string {
	if g.r.IntN(10) < 6 {
		return g.pick(zhSentences)
	}
	return g.pick(enSentences)
}

// article is 2–4 KB of HTML with headings, paragraphs, links (absolute and
// relative), images, lists, code and quotes.
func (g *gen) article(host string, src, j, size int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<h2>%s</h2>", html.EscapeString(g.pick(zhTitles)))
	for k := 0; b.Len() < size; k++ {
		switch k % 6 {
		case 0, 2:
			b.WriteString("<p>")
			for range 2 + g.r.IntN(3) {
				b.WriteString(g.sentence())
			}
			fmt.Fprintf(&b, ` <a href="https://%s/news/%d.html">%s</a> <a href="/related/%d-%d.html">相关阅读</a> <strong>%s</strong></p>`,
				host, g.r.IntN(100000), html.EscapeString(g.pick(enTitles)), src, k, html.EscapeString(g.pick(zhWords)))
		case 1:
			fmt.Fprintf(&b, `<figure><img src="/images/%03d/%03d-%d.jpg" alt="%s" width="640" height="360"><figcaption>%s</figcaption></figure>`,
				src, j, k, html.EscapeString(g.pick(zhWords)), g.sentence())
		case 3:
			tag := "ul"
			if g.r.IntN(2) == 0 {
				tag = "ol"
			}
			b.WriteString("<" + tag + ">")
			for range 3 + g.r.IntN(3) {
				b.WriteString("<li>" + g.sentence() + "</li>")
			}
			b.WriteString("</" + tag + ">")
		case 4:
			b.WriteString("<pre><code>" + html.EscapeString(g.pick(codeSnippets)) + "</code></pre>")
		case 5:
			b.WriteString("<blockquote><p>" + g.sentence() + "</p></blockquote>")
		}
	}
	return b.String()
}

func cdata(s string) string {
	return "<![CDATA[" + strings.ReplaceAll(s, "]]>", "]]]]><![CDATA[>") + "]]>"
}

func (g *gen) rss(src, n int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
<title>%s %03d</title>
<link>https://s%03d.example.com/</link>
<description>Benchmark source %d · 基准测试订阅源</description>
<language>zh-cn</language>
`, html.EscapeString(g.pick(zhWords)), src, src, src)
	for j := range n {
		it := g.item(src, j)
		fmt.Fprintf(&b, "<item>\n<title>%s</title>\n<link>%s</link>\n<guid isPermaLink=\"false\">%s</guid>\n<pubDate>%s</pubDate>\n<dc:creator>%s</dc:creator>\n<category>%s</category>\n<description>%s</description>\n<content:encoded>%s</content:encoded>\n</item>\n",
			html.EscapeString(it.title), it.link, it.guid, it.date.Format(time.RFC1123Z),
			html.EscapeString(it.author), html.EscapeString(it.category), cdata(it.summary), cdata(it.content))
	}
	b.WriteString("</channel>\n</rss>\n")
	return []byte(b.String())
}

func (g *gen) atom(src, n int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="zh-CN">
<title>%s %03d</title>
<id>tag:s%03d.example.com,2025:feed</id>
<link rel="alternate" href="https://s%03d.example.com/"/>
<updated>%s</updated>
`, html.EscapeString(g.pick(zhWords)), src, src, src, corpusEpoch.Format(time.RFC3339))
	for j := range n {
		it := g.item(src, j)
		fmt.Fprintf(&b, "<entry>\n<title type=\"text\">%s</title>\n<id>%s</id>\n<link rel=\"alternate\" href=\"%s\"/>\n<published>%s</published>\n<updated>%s</updated>\n<author><name>%s</name></author>\n<category term=\"%s\"/>\n<summary type=\"html\">%s</summary>\n<content type=\"html\">%s</content>\n</entry>\n",
			html.EscapeString(it.title), it.guid, it.link, it.date.Format(time.RFC3339), it.date.Format(time.RFC3339),
			html.EscapeString(it.author), html.EscapeString(it.category), html.EscapeString(it.summary), html.EscapeString(it.content))
	}
	b.WriteString("</feed>\n")
	return []byte(b.String())
}

func (g *gen) jsonFeed(src, n int) []byte {
	type author struct {
		Name string `json:"name"`
	}
	type jsonItem struct {
		ID            string   `json:"id"`
		URL           string   `json:"url"`
		Title         string   `json:"title"`
		ContentHTML   string   `json:"content_html"`
		Summary       string   `json:"summary"`
		DatePublished string   `json:"date_published"`
		Authors       []author `json:"authors"`
		Tags          []string `json:"tags"`
	}
	feed := struct {
		Version     string     `json:"version"`
		Title       string     `json:"title"`
		HomePageURL string     `json:"home_page_url"`
		FeedURL     string     `json:"feed_url"`
		Language    string     `json:"language"`
		Items       []jsonItem `json:"items"`
	}{
		Version:     "https://jsonfeed.org/version/1.1",
		Title:       fmt.Sprintf("%s %03d", g.pick(zhWords), src),
		HomePageURL: fmt.Sprintf("https://s%03d.example.com/", src),
		FeedURL:     fmt.Sprintf("https://s%03d.example.com/feed.json", src),
		Language:    "zh-CN",
	}
	for j := range n {
		it := g.item(src, j)
		feed.Items = append(feed.Items, jsonItem{
			ID: it.guid, URL: it.link, Title: it.title, ContentHTML: it.content,
			Summary:       strings.TrimSuffix(strings.TrimPrefix(it.summary, "<p>"), "</p>"),
			DatePublished: it.date.Format(time.RFC3339), Authors: []author{{it.author}}, Tags: []string{it.category},
		})
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(feed); err != nil {
		panic(err) // only strings: cannot fail
	}
	return b.Bytes()
}

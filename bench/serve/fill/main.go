// Command fill writes the serving benchmark's database: n posts over 50
// categories, 500 tags and 2,000 sources, through storage/sqlite's public API
// (SyncSources, then SavePoll per source), and the config.toml that serves
// it. The sources in the config and in the database are the same, because
// the database's sources are synced from the loaded config.
//
//	fill -dir /tmp/refeed-bench-serve/n1000000 -n 1000000
//
// Every source gets a file:// URL to one small local feed, a 24h interval and
// a stored NextPoll a year ahead, so `refeed serve` polls nothing while it is
// measured; fill ends with a search, so the search index is complete too.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/refeed/refeed/config"
	"github.com/refeed/refeed/storage"
	"github.com/refeed/refeed/storage/sqlite"
)

// Corpus shape, as in issue 4.
const (
	numCategories = 50
	numTags       = 500
	numSources    = 2000
)

func main() {
	dir := flag.String("dir", "", "output directory (config.toml, refeed.db, feed.xml)")
	n := flag.Int("n", 10000, "number of posts")
	listen := flag.String("listen", "127.0.0.1:18080", "server.listen written to the config")
	batch := flag.Int("batch", 5000, "posts per SavePoll call at most")
	flag.Parse()
	if *dir == "" {
		log.Fatal("fill: -dir is required")
	}
	if err := run(context.Background(), *dir, *n, *batch, *listen); err != nil {
		log.Fatal("fill: ", err)
	}
}

func run(ctx context.Context, dir string, n, batch int, listen string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	feed := filepath.Join(dir, "feed.xml")
	if err := os.WriteFile(feed, []byte(emptyFeed), 0o644); err != nil {
		return err
	}
	cfgPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(configText(feed, listen)), 0o644); err != nil {
		return err
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return fmt.Errorf("load generated config: %w", err)
	}
	st, err := sqlite.Open(ctx, cfg.Storage.Path)
	if err != nil {
		return err
	}
	defer st.Close()
	scs := make([]storage.SourceConfig, len(cfg.Sources))
	for i, s := range cfg.Sources {
		scs[i] = storage.SourceConfig{Name: s.Name, URL: s.URL, Category: s.Category, Tags: s.Tags, Interval: s.Interval}
	}
	if err := st.SyncSources(ctx, scs); err != nil {
		return err
	}

	// Generate on one goroutine while the other stores: SQLite writes
	// serially, so this is as parallel as it gets.
	type job struct {
		source string
		posts  []storage.Post
	}
	jobs := make(chan job, 4)
	perSource := (n + numSources - 1) / numSources
	go func() {
		defer close(jobs)
		for i := range numSources {
			var posts []storage.Post
			for j := range perSource {
				g := j*numSources + i // global index: 0 is the newest post
				if g >= n {
					break
				}
				posts = append(posts, makePost(i, g))
				if len(posts) == batch {
					jobs <- job{sourceName(i), posts}
					posts = nil
				}
			}
			jobs <- job{sourceName(i), posts}
		}
	}()
	start := time.Now()
	now := time.Now()
	state := storage.SourceState{
		URL: scs[0].URL, Status: storage.StatusOK, LastPoll: now, LastSuccess: now,
		NextPoll: now.AddDate(1, 0, 0),
	}
	done, next := 0, 50000
	for j := range jobs {
		cs, err := st.Claim(ctx, storage.ClaimRequest{Owner: "fill", Lease: time.Hour, Limit: 1,
			Names: []string{j.source}, Force: true})
		if err != nil || len(cs) != 1 {
			return fmt.Errorf("claim %s: %v (%d claims)", j.source, err, len(cs))
		}
		stats, err := st.SavePoll(ctx, cs[0], state, j.posts)
		if err != nil {
			return err
		}
		if stats.New != len(j.posts) {
			return fmt.Errorf("source %s: stored %d new of %d", j.source, stats.New, len(j.posts))
		}
		done += len(j.posts)
		if done >= next {
			el := time.Since(start)
			fmt.Fprintf(os.Stderr, "fill: %d/%d posts, %.0f posts/s\n", done, n, float64(done)/el.Seconds())
			next += 50000
		}
	}
	el := time.Since(start)
	fmt.Fprintf(os.Stderr, "fill: %d posts in %s (%.0f posts/s)\n", done, el.Round(time.Second), float64(done)/el.Seconds())
	// The store may index posts for search after SavePoll, in the
	// background; a search waits until the index is complete. Wait here,
	// so that `refeed serve` is not indexing while it is measured.
	t := time.Now()
	if _, err := st.Posts(ctx, storage.Query{Search: "税务", Limit: 1}); err != nil {
		return fmt.Errorf("search (index catch-up): %w", err)
	}
	fmt.Fprintf(os.Stderr, "fill: search index complete after %s more\n", time.Since(t).Round(time.Second))
	return nil
}

func sourceName(i int) string   { return fmt.Sprintf("src-%04d", i) }
func categorySlug(c int) string { return fmt.Sprintf("cat-%02d", c) }
func tagName(t int) string      { return fmt.Sprintf("标签%03d", t) }

// sourceTags gives source i one to three distinct tags.
func sourceTags(i int) []string {
	k := 1 + i%3
	seen := map[int]bool{}
	var out []string
	for x := 0; len(out) < k; x++ {
		t := (i*7 + x*131 + i/numTags) % numTags
		if !seen[t] {
			seen[t] = true
			out = append(out, tagName(t))
		}
	}
	return out
}

func configText(feed, listen string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `# Generated by bench/serve/fill: the serving benchmark's config.
title       = "refeed bench"
description = "服务基准 · serving benchmark"
base_url    = "http://%s"
timezone    = "Asia/Shanghai"
language    = "zh-CN"

[server]
listen = %q

[storage]
path = "refeed.db"

[poll]
interval = "24h"

[output]
items     = 50
max_items = 500
cache     = "64MiB"
`, listen, listen)
	for c := range numCategories {
		fmt.Fprintf(&b, "\n[[category]]\nslug        = %q\ntitle       = \"分类 %02d · Category %02d\"\ndescription = \"Benchmark category %d\"\n",
			categorySlug(c), c, c, c)
	}
	for i := range numSources {
		tags := sourceTags(i)
		q := make([]string, len(tags))
		for k, t := range tags {
			q[k] = fmt.Sprintf("%q", t)
		}
		fmt.Fprintf(&b, "\n[[source]]\nname     = %q\nurl      = %q\ncategory = %q\ntags     = [%s]\ninterval = \"24h\"\n",
			sourceName(i), "file://"+feed, categorySlug(i%numCategories), strings.Join(q, ", "))
	}
	return b.String()
}

const emptyFeed = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>bench</title><link>http://example.com/</link><description>bench</description></channel></rss>
`

// base is the newest post's date; post g is g×30 s older.
var base = time.Date(2025, 6, 1, 8, 0, 0, 0, time.FixedZone("CST", 8*3600))

func makePost(src, g int) storage.Post {
	r := rand.New(rand.NewPCG(uint64(g), 0x5eed))
	pub := base.Add(-time.Duration(g) * 30 * time.Second)
	link := fmt.Sprintf("https://news%d.example.com/%s/%d.html", src%97, pub.Format("2006/01/02"), g)
	title := sentence(r, 4+r.IntN(6), false)
	var enc []storage.Enclosure
	if g%20 == 0 {
		enc = []storage.Enclosure{{URL: fmt.Sprintf("https://cdn.example.com/audio/%d.mp3", g), Type: "audio/mpeg", Length: int64(1e6 + g)}}
	}
	return storage.Post{
		Key:        fmt.Sprintf("guid:%s-%d", sourceName(src), g),
		GUID:       fmt.Sprintf("%s-%d", sourceName(src), g),
		Link:       link,
		Title:      title,
		Content:    content(r, g),
		Summary:    sentence(r, 20+r.IntN(20), true),
		Author:     fmt.Sprintf("作者%d", src%300),
		Image:      imageURL(g),
		Enclosures: enc,
		Published:  pub,
		Updated:    pub,
		FirstSeen:  pub.Add(3 * time.Minute),
	}
}

func imageURL(g int) string {
	if g%3 != 0 {
		return ""
	}
	return fmt.Sprintf("https://img.example.com/%d.jpg", g)
}

// content is 2–3 KB of HTML: paragraphs of mixed Chinese and English, with a
// link, sometimes an image, a list or code.
func content(r *rand.Rand, g int) string {
	var b strings.Builder
	target := 2048 + r.IntN(1024)
	for b.Len() < target {
		switch r.IntN(10) {
		case 0:
			fmt.Fprintf(&b, `<p><img src="https://img.example.com/%d-%d.jpg" alt="%s"></p>`, g, b.Len(), sentence(r, 2, false))
		case 1:
			b.WriteString("<ul>")
			for range 2 + r.IntN(3) {
				b.WriteString("<li>" + sentence(r, 5, false) + "</li>")
			}
			b.WriteString("</ul>")
		case 2:
			b.WriteString("<pre><code>go test -run TestServe ./server</code></pre>")
		default:
			fmt.Fprintf(&b, `<p>%s <a href="https://example.org/ref/%d">%s</a>%s</p>`,
				sentence(r, 12+r.IntN(12), true), r.IntN(1e6), sentence(r, 2, false), sentence(r, 8+r.IntN(10), true))
		}
	}
	return b.String()
}

var (
	zhWords = strings.Fields("税务 新闻 政策 解读 财政 部门 发布 通知 企业 所得税 增值税 改革 市场 经济 数据 增长 银行 利率 汇率 上海 北京 深圳 投资 基金 股票 指数 公司 报告 季度 同比 环比 规定 实施 办法 纳税人 申报 优惠 减免 发票 电子 系统 升级 服务 平台 数字化 监管 风险 防范")
	enWords = strings.Fields("tax policy market growth bank rate index fund report quarter revenue China Shanghai yuan bond yield inflation export import trade data release reform services digital invoice platform risk update")
)

// sentence is n words, mostly Chinese with some English, punctuated when
// punct is set.
func sentence(r *rand.Rand, n int, punct bool) string {
	var b strings.Builder
	for k := range n {
		if r.IntN(4) == 0 {
			if k > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(enWords[r.IntN(len(enWords))])
			b.WriteByte(' ')
		} else {
			b.WriteString(zhWords[r.IntN(len(zhWords))])
		}
		if punct && r.IntN(7) == 0 {
			b.WriteString("，")
		}
	}
	if punct {
		b.WriteString("。")
	}
	return strings.TrimSpace(b.String())
}

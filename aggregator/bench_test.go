package aggregator

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/mmcdole/gofeed"
)

// benchFeed is a 50-item RSS feed of about 170 KB with realistic article HTML.
func benchFeed() []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>税务新闻</title><link>https://example.org/</link><description>bench</description>`)
	para := `<p>国家税务总局发布关于进一步优化增值税发票管理的公告，明确了纳税人申领、开具发票的具体要求。<a href="/news/detail.html">详情</a> <img src="img/p.png" alt="图"> <strong>重点</strong>：<em>自2025年起</em>施行。</p>`
	for i := range 50 {
		fmt.Fprintf(&b, `<item><title>第%d条 税务新闻 &amp; 公告</title><link>https://example.org/news/%d.html</link><guid>news-%d</guid><pubDate>Sat, 01 Mar 2025 08:00:00 +0800</pubDate><description><![CDATA[<p>摘要 %d</p>]]></description><content:encoded><![CDATA[%s<script>alert(1)</script>]]></content:encoded></item>`,
			i, i, i, i, strings.Repeat(para, 12))
	}
	b.WriteString(`</channel></rss>`)
	return b.Bytes()
}

func BenchmarkPipeline(b *testing.B) {
	body := benchFeed()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		u, err := toUTF8(body, "")
		if err != nil {
			b.Fatal(err)
		}
		feed, err := parse(u)
		if err != nil {
			b.Fatal(err)
		}
		if posts, _ := normalise(feed, src("s", ""), "https://example.org/feed", testNow, shanghai); len(posts) != 50 {
			b.Fatalf("%d posts", len(posts))
		}
	}
}

func BenchmarkGofeedParse(b *testing.B) {
	body := benchFeed()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := gofeed.NewParser().Parse(bytes.NewReader(body)); err != nil {
			b.Fatal(err)
		}
	}
}

func TestBenchFeedSize(t *testing.T) {
	if n := len(benchFeed()); n < 150<<10 || n > 190<<10 {
		t.Errorf("bench feed is %d bytes, want ~170 KB", n)
	}
}

package feeds

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/refeed/refeed/storage"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// cst is Asia/Shanghai without needing tzdata on the test host.
var cst = time.FixedZone("CST", 8*60*60)

func testSite() Site {
	return Site{
		Title:       "finews",
		Description: "财税新闻 & 评论",
		BaseURL:     "https://news.example.org",
		Language:    "zh-CN",
		Location:    cst,
		Hub:         "https://hub.example.org/",
		Generator:   "refeed 0.1.0",
	}
}

func testPosts() []storage.Post {
	pub := time.Date(2022, 5, 6, 0, 53, 0, 0, time.UTC)
	return []storage.Post{
		{
			ID:         "0123456789abcdef",
			Key:        "guid:https://www.chinatax.gov.cn/n1",
			Sources:    []string{"chinatax", "mof"},
			GUID:       "https://www.chinatax.gov.cn/n1",
			Link:       "https://www.chinatax.gov.cn/n1.html",
			Title:      "国家税务总局：个人所得税年度汇算“进行时”",
			Content:    `<p>全文：个人所得税（<b>综合所得</b>）年度汇算。</p><p><img src="https://www.chinatax.gov.cn/a.png" alt="图"></p>`,
			Summary:    "<p>摘要：年度汇算截至6月30日。</p>",
			Author:     "中国税务报",
			Image:      "https://www.chinatax.gov.cn/a.png",
			Enclosures: []storage.Enclosure{{URL: "https://www.chinatax.gov.cn/a.mp3", Type: "audio/mpeg", Length: 123456}, {URL: "https://www.chinatax.gov.cn/b.pdf", Type: "application/pdf", Length: 9}},
			Published:  pub,
			Updated:    pub.Add(90 * time.Minute),
			FirstSeen:  pub.Add(time.Minute),
			Categories: []string{"zhongguoshuiwubao"},
			Tags:       []string{"中国税务报新闻", "个税", "个税"},
		},
		{
			ID:         "fedcba9876543210",
			Key:        "hash:x",
			Sources:    []string{"mof"},
			Title:      `Tom & Jerry "quoted" <b>not bold</b> 'x' ]]> end`,
			Content:    `<p>AT&amp;T &lt;tag&gt; <a href="https://example.com/?a=1&amp;b=2">link</a></p>`,
			Enclosures: []storage.Enclosure{{URL: "https://example.com/x.bin"}, {URL: "file:///etc/passwd", Type: "text/plain"}},
			Published:  pub.Add(-24 * time.Hour),
			Updated:    pub.Add(-24 * time.Hour),
			Categories: []string{"unknown-slug"},
			Tags:       []string{"a tag", "a tag", "C&C <x>"},
		},
		{
			ID:        "00000000000000aa",
			Key:       "link:https://example.com/only-title",
			Sources:   []string{"ghost"},
			Link:      "https://example.com/only-title",
			Title:     "Only a title",
			Published: time.Date(2021, 12, 31, 16, 0, 0, 0, time.UTC),
		},
	}
}

func testSources() map[string]storage.Source {
	cfg := func(name, u string) storage.SourceConfig {
		return storage.SourceConfig{Name: name, URL: u, Category: "zhongguoshuiwubao"}
	}
	return map[string]storage.Source{
		"chinatax": {SourceConfig: cfg("chinatax", "http://www.chinatax.gov.cn/rss.xml"), State: storage.SourceState{
			URL: "https://www.chinatax.gov.cn/rss.xml", Title: "国家税务总局 - 新闻", SiteURL: "https://www.chinatax.gov.cn/",
			Status: storage.StatusOK,
		}},
		"mof": {SourceConfig: cfg("mof", "file:///srv/feeds/mof.xml")},
	}
}

func testFeed(ext string) Feed {
	return Feed{
		Site:        testSite(),
		Title:       "finews: 中国税务报新闻",
		Description: "中国税务报新闻 <最新>",
		SelfURL:     "https://news.example.org/category/zhongguoshuiwubao." + ext + "?limit=3",
		NextURL:     "https://news.example.org/category/zhongguoshuiwubao." + ext + "?before=AAAA&limit=3",
		HTMLURL:     "https://news.example.org/category/zhongguoshuiwubao.html",
		Posts:       testPosts(),
		Sources:     testSources(),
		Categories:  map[string]string{"zhongguoshuiwubao": "中国税务报新闻"},
	}
}

func emptyFeed(ext string) Feed {
	return Feed{
		Site:    Site{Title: "Planet Empty", BaseURL: "http://localhost:8080", Language: "en", Location: time.UTC},
		Title:   "Planet Empty",
		SelfURL: "http://localhost:8080/feed." + ext,
	}
}

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file (run go test -update to accept):\n--- got ---\n%s", name, got)
	}
}

package browsertest

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The sample data the walk expects, from samples/chinatax-gbk.xml.
const (
	categoryTitle = "中国税务报新闻"
	categoryPath  = "/category/zhongguoshuiwubao.html"
	postTitle     = "国家税务总局：2022年个人所得税综合所得汇算清缴将于6月30日结束"
	postDate      = "2022-05-06 08:53"
	postDatetime  = "2022-05-06T08:53:00+08:00"
	postOriginal  = "https://www.chinatax.gov.cn/chinatax/n810219/c102025/c5175960/content.html"
	refundTitle   = "留抵退税政策“红包”直达市场主体 已有超过8000亿元退到纳税人账户"
)

// TestWalk reads the site as a person would: home → category → post →
// back to the category → home, then a search, checking every page and
// screenshotting it on a phone and a desktop, light and dark.
func TestWalk(t *testing.T) {
	requireChromium(t)
	start := time.Now()
	s := startRefeed(t)
	t.Logf("refeed serving at %s after %v", s.base, time.Since(start).Round(time.Millisecond))
	b := newBrowser(t, s.base)
	dir := screenshotDir(t)
	b.use(t, viewports[0])
	home := s.url("/")
	category := s.url(categoryPath)
	n := 0
	// visit checks the page the tab shows; shots saves screenshots of it.
	visit := func(name string, want expect, shots bool) pageInfo {
		t.Helper()
		b.noProblems(t, name)
		p := b.inspect(t)
		checkPage(t, s, name, p, want)
		b.checkCJKFont(t, name, want.cjk)
		if shots {
			n++
			b.shoot(t, dir, n, name)
			b.noProblems(t, name+" (screenshots)")
		}
		return p
	}
	click := func(name, xpath string) {
		t.Helper()
		resp, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.Search(xpath), chromedp.NodeVisible))
		checkResponse(t, name, resp, err)
	}

	// Home.
	resp, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(home))
	checkResponse(t, "home", resp, err)
	p := visit("home", expect{
		url: home, h1: "finews", cjk: "h2",
		texts: []string{"税务与财经新闻聚合", "最新文章", "分类", "标签", "来源", postTitle, postDate, "正常"},
		links: []link{{Text: categoryTitle, Href: category}, {Text: postTitle, Href: ""}},
	}, true)
	postLink, ok := p.linkTo(postTitle)
	if !ok {
		t.Fatalf("home: no link to %q", postTitle)
	}
	post := postLink.Href

	// → the category, by its link in the categories list.
	click("home → category", `//section/ul[contains(@class,"counts") and not(contains(@class,"tags"))]//a[normalize-space()="`+categoryTitle+`"]`)
	visit("category", expect{
		url: category, h1: categoryTitle, cjk: "h1",
		texts: []string{postTitle, postDate, refundTitle, "返回首页"},
		links: []link{{Text: postTitle, Href: post}, {Text: "返回首页", Href: home}},
	}, true)

	// → the post.
	click("category → post", `//ol[@class="posts"]//a[normalize-space()="`+postTitle+`"]`)
	p = visit("post", expect{
		url: post, h1: postTitle, cjk: "h1",
		texts: []string{postDate, "国家税务总局提醒", "6月30日", "需要退税的纳税人，请及时申请退税。", "阅读原文", "返回" + categoryTitle, "返回首页"},
		links: []link{
			{Text: "阅读原文 →", Href: postOriginal},
			{Text: categoryTitle, Href: category},
			{Text: "#" + categoryTitle, Href: s.url("/tag/" + url.PathEscape(categoryTitle) + ".html")},
			{Text: "返回" + categoryTitle, Href: category},
			{Text: "返回首页", Href: home},
		},
	}, true)
	if len(p.Times) != 1 || p.Times[0].Text != postDate || p.Times[0].Datetime != postDatetime {
		t.Errorf("post: times %+v, want one %s (%s)", p.Times, postDate, postDatetime)
	}

	// → back to the category, by the footer link.
	click("post → category", `//nav[contains(@class,"back")]/a[normalize-space()="返回`+categoryTitle+`"]`)
	visit("category-again", expect{url: category, h1: categoryTitle, cjk: "h1", texts: []string{postTitle}}, false)

	// → home, by the back link.
	click("category → home", `//p[contains(@class,"back")]/a[normalize-space()="返回首页"]`)
	visit("home-again", expect{url: home, h1: "finews", cjk: "h2", texts: []string{categoryTitle}}, false)

	// A search typed into the header's form finds a Chinese word in a
	// Chinese post.
	err = chromedp.Do(b.ctx, chromedp.SendKeys(chromedp.CSS(`form.search input[name="q"]`), "退税", chromedp.NodeVisible))
	if err != nil {
		t.Fatalf("type a search: %v", err)
	}
	click("search", `//form[contains(@class,"search")]//button[@type="submit"]`)
	searchURL := s.url("/search?q=" + url.QueryEscape("退税"))
	p = visit("search", expect{
		url: searchURL, h1: "搜索结果：退税", cjk: "h1",
		texts: []string{refundTitle},
		links: []link{{Text: refundTitle, Href: ""}},
	}, true)
	found := 0
	for _, l := range p.Links {
		if strings.HasPrefix(l.Href, s.url("/post/")) && l.Cls == "title" {
			found++
		}
	}
	if found == 0 {
		t.Errorf("search 退税: no posts found")
	}

	// Query text that is FTS syntax still answers with a page.
	for _, q := range []string{`"退税`, `退税 OR (`, `*`, `NEAR(税`} {
		resp, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(s.url("/search?q="+url.QueryEscape(q))))
		checkResponse(t, "search "+q, resp, err)
		b.noProblems(t, "search "+q)
	}
	// The watch above would have seen trouble: a 404 and a console error
	// are reported.
	if _, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(s.url("/static/missing.css"))); err != nil {
		t.Fatalf("probe 404: %v", err)
	}
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[chromedp.Void](`console.error("refeed probe")`)); err != nil {
		t.Fatalf("probe console: %v", err)
	}
	var got string
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		got += strings.Join(b.rec.take(), "\n") + "\n"
		if strings.Contains(got, "HTTP 404") && strings.Contains(got, "refeed probe") {
			break
		}
	}
	if !strings.Contains(got, "HTTP 404") || !strings.Contains(got, "refeed probe") {
		t.Errorf("the console watch missed a 404 or a console.error; it saw:\n%s", got)
	}

	t.Logf("screenshots in %s; external requests stubbed: %v", dir, b.rec.external)
	t.Logf("walk took %v", time.Since(start).Round(time.Millisecond))
}

package feeds

import "strings"

// labels are the words of the HTML pages and Jekyll back links, in the
// site's language: Chinese for zh*, English otherwise.
type labels struct {
	BackTo, BackHome, Home                  string
	Categories, Tags, Sources, Posts, Older string
	Search, SearchButton, Original          string
	Published, Updated, Source, Category    string
	Tag, Status, LastPoll, NextPoll         string
	Failures, NoPosts, Feeds, Results       string
	Feed, PostsUnit, Colon                  string
	Sep                                     string // between back links
	StatusText                              map[string]string
}

var zhLabels = labels{
	BackTo: "返回", BackHome: "返回首页", Home: "首页",
	Categories: "分类", Tags: "标签", Sources: "来源", Posts: "最新文章", Older: "更早的文章",
	Search: "搜索", SearchButton: "搜索", Original: "阅读原文",
	Published: "发布", Updated: "更新", Source: "来源", Category: "分类",
	Tag: "标签", Status: "状态", LastPoll: "上次抓取", NextPoll: "下次抓取",
	Failures: "连续失败", NoPosts: "暂无文章。", Feeds: "订阅", Results: "搜索结果",
	Feed: "订阅源", PostsUnit: "篇", Colon: "：",
	Sep: "｜",
	StatusText: map[string]string{
		"": "尚未抓取", "ok": "正常", "not_modified": "未更新", "error": "错误", "gone": "已失效（410）",
	},
}

var enLabels = labels{
	BackTo: "Back to ", BackHome: "Home", Home: "Home",
	Categories: "Categories", Tags: "Tags", Sources: "Sources", Posts: "Latest posts", Older: "Older posts",
	Search: "Search", SearchButton: "Search", Original: "Read the original",
	Published: "Published", Updated: "Updated", Source: "Source", Category: "Category",
	Tag: "Tag", Status: "Status", LastPoll: "Last poll", NextPoll: "Next poll",
	Failures: "failures", NoPosts: "No posts yet.", Feeds: "Feeds", Results: "Search results",
	Feed: "feed", PostsUnit: "posts", Colon: ": ",
	Sep: " | ",
	StatusText: map[string]string{
		"": "not polled yet", "ok": "ok", "not_modified": "not modified", "error": "error", "gone": "gone (410)",
	},
}

// labelsFor picks the labels for a language tag such as "zh-CN" or "en".
func labelsFor(lang string) *labels {
	if strings.HasPrefix(strings.ToLower(lang), "zh") {
		return &zhLabels
	}
	return &enLabels
}

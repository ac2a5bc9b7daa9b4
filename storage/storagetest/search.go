package storagetest

import (
	"fmt"

	"github.com/refeed/refeed/storage"
)

// searchPosts saves posts for the search tests into source a (category x)
// and b (category y).
func searchPosts(f *fixture) {
	f.sync(src("a", "x"), src("b", "y"))
	zh := post("zh", "国家税务总局发布退税新政策", 3)
	zh.Content = "<p>个人所得税<strong>汇算清缴</strong>退税指南</p>"
	en := post("en", "The Quick Brown Fox", 2)
	en.Content = `<p>jumps over the <a href="https://lazy.example/">lazy</a> dog, 100% sure_</p>`
	other := post("other", "Weather report", 1)
	other.Content = "<div>Sunny, 25°C &amp; calm, 1/2 cloudy</div>"
	f.save("a", zh, en, other)
	zh2 := post("zh2", "退税进度查询", 0)
	zh2.Content = "<p>办理进度</p>"
	f.save("b", zh2)
}

func testSearch(f *fixture) {
	t := f.t
	searchPosts(f)
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"退税新政", []string{"国家税务总局发布退税新政策"}},            // 4 characters, title
		{"汇算清缴", []string{"国家税务总局发布退税新政策"}},            // content across markup
		{"退税", []string{"国家税务总局发布退税新政策", "退税进度查询"}},    // 2 characters
		{"进度", []string{"退税进度查询"}},                     // 2 characters, title and content
		{"税", []string{"国家税务总局发布退税新政策", "退税进度查询"}},     // 1 character
		{"quick", []string{"The Quick Brown Fox"}},     // case-insensitive
		{"LAZY DOG", []string{"The Quick Brown Fox"}},  // words anywhere, all must match
		{"fox quick", []string{"The Quick Brown Fox"}}, // any order
		{"fox zebra", nil}, // all terms must match
		{"zebra", nil},
		{"Sunny & calm", []string{"Weather report"}}, // entities decoded
		{"100%", []string{"The Quick Brown Fox"}},    // % is literal
		{"%", []string{"The Quick Brown Fox"}},       // short and literal
		{"_", []string{"The Quick Brown Fox"}},       // short and literal
		{"strong", nil},                              // markup is not text
		{"/", []string{"Weather report"}},            // text's "1/2", not markup's </p> or https://
		{"=", nil},                                   // href="…"
		{"<", nil},                                   // <p>
		{"°", []string{"Weather report"}},            // punctuation of the text
		{"&", []string{"Weather report"}},            // &amp; is &
		{"  ", []string{"国家税务总局发布退税新政策", "The Quick Brown Fox", "Weather report", "退税进度查询"}},
	} {
		eq(t, fmt.Sprintf("search %q", tc.q), f.titles(storage.Query{Search: tc.q}), strs(tc.want...))
	}
}

func testSearchSyntax(f *fixture) {
	t := f.t
	searchPosts(f)
	for _, q := range []string{
		`"`, `""`, `"""`, `"unterminated`, `*`, `quick*`, `(`, `)`, `(quick`, `AND`, `OR`, `NOT`, `NEAR`,
		`quick AND`, `AND quick`, `NEAR(quick fox)`, `quick NOT fox`, `-`, `-quick`, `--`, `title:quick`,
		`{title}: quick`, `^quick`, `+`, `:`, `'`, `';DROP TABLE posts;--`, `\`, `\"`, "a\x00b", "\x00",
		`%_%`, `[a-z]`, `税"`, `"退税"`, `退*`, `ａｎｄ`, `'退税' OR 1=1`, "\t\n", "😀😀😀",
	} {
		for _, filter := range []storage.Query{{}, {Category: "x"}, {Tag: "t"}, {Source: "a"}} {
			filter.Search = q
			filter.Limit = 10
			if _, err := f.s.Posts(f.ctx, filter); err != nil {
				t.Errorf("Posts(%+v): %v", filter, err)
			}
		}
	}
	// Syntax characters have no effect beyond their text: whatever these
	// find must contain "quick".
	for _, q := range []string{`quick*`, `"quick"`, `-quick`, `quick AND`, `(quick)`} {
		for _, title := range f.titles(storage.Query{Search: q}) {
			if title != "The Quick Brown Fox" {
				t.Errorf("search %q found %q", q, title)
			}
		}
	}
}

func testSearchFilterCursor(f *fixture) {
	t := f.t
	f.sync(src("a", "x", "t"), src("b", "y"))
	var pa, pb []storage.Post
	for i := range 40 {
		pa = append(pa, post(fmt.Sprint("a", i), fmt.Sprint("税务新闻 a", i), i))
		pb = append(pb, post(fmt.Sprint("b", i), fmt.Sprint("税务新闻 b", i), i))
	}
	pa = append(pa, post("a-other", "weather", 100))
	f.save("a", pa...)
	f.save("b", pb...)
	for _, q := range []storage.Query{
		{Search: "税务新闻", Category: "x", Limit: 7},
		{Search: "税务", Tag: "t", Limit: 7},
		{Search: "新闻 a", Source: "a", Limit: 3},
		{Search: "税务新闻", Limit: 9},
	} {
		got := f.all(q)
		want := 40
		if q.Source == "" && q.Category == "" && q.Tag == "" {
			want = 80
		}
		if len(got) != want {
			t.Errorf("%+v: %d posts, want %d", q, len(got), want)
		}
		seen := map[string]bool{}
		for i, p := range got {
			if seen[p.ID] {
				t.Errorf("%+v: %s twice", q, p.ID)
			}
			seen[p.ID] = true
			if want == 40 && p.Sources[0] != "a" {
				t.Errorf("%+v: post of source %v", q, p.Sources)
			}
			if i > 0 && p.Published.After(got[i-1].Published) {
				t.Errorf("%+v: not newest first at %d", q, i)
			}
		}
	}
}

package feeds

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/refeed/refeed/storage"
)

func TestJekyllGolden(t *testing.T) {
	posts := testPosts()
	en := testSite()
	en.Language, en.BaseURL = "en", "https://blog.example.org/"
	tests := []struct {
		name        string
		site        Site
		post        storage.Post
		slug, title string
	}{
		{"zh", testSite(), posts[0], "zhongguoshuiwubao", "中国税务报新闻"},
		{"quotes", testSite(), func() storage.Post {
			p := posts[0]
			p.Title = `“税务”: "引号" \反斜杠\ 、《书名》——冒号：` + "\t制表\n换行\x01\u2028"
			p.Tags = []string{"tax law", "个税", "C&C"}
			p.Content = "<p>正文</p>\n\n\n"
			return p
		}(), "zhongguoshuiwubao", "中国税务报新闻 [专栏]"},
		{"en-nolink", en, func() storage.Post {
			p := posts[1]
			p.Title = `Re: "C:\Temp" & <b>tags</b>: a title`
			p.Tags = []string{"#hash", "a tag"}
			return p
		}(), "", ""},
		{"en-summary", en, func() storage.Post {
			p := posts[0]
			p.Content = ""
			p.Tags = []string{"true"}
			return p
		}(), "news", "News"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := Jekyll(&b, tt.site, tt.post, tt.slug, tt.title); err != nil {
				t.Fatal(err)
			}
			golden(t, "jekyll-"+tt.name+".md", []byte(b.String()))
		})
	}
}

func TestJekyllLayout(t *testing.T) {
	var b strings.Builder
	if err := Jekyll(&b, testSite(), testPosts()[0], "zhongguoshuiwubao", "中国税务报新闻"); err != nil {
		t.Fatal(err)
	}
	want := "---\nlayout: post\ntitle: \"国家税务总局：个人所得税年度汇算“进行时”\"\ndate: 2022-05-06 08:53:00 +0800\n" +
		"categories: zhongguoshuiwubao\ntags: 中国税务报新闻 个税\n---\n" + testPosts()[0].Content + "\n\n" +
		"<https://www.chinatax.gov.cn/n1.html>\n\n" +
		"[返回中国税务报新闻](https://news.example.org/category/zhongguoshuiwubao.html)｜[返回首页](https://news.example.org/)\n"
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestJekyllPath(t *testing.T) {
	p := storage.Post{ID: "0123456789abcdef", Published: time.Date(2022, 5, 5, 16, 30, 0, 0, time.UTC)}
	tests := []struct {
		loc  *time.Location
		want string
	}{
		{cst, "_posts/2022-05-06-0123456789abcdef.md"},
		{time.UTC, "_posts/2022-05-05-0123456789abcdef.md"},
		{nil, "_posts/2022-05-06-0123456789abcdef.md"},
	}
	for _, tt := range tests {
		if got := JekyllPath(p, tt.loc); got != tt.want {
			t.Errorf("JekyllPath(%v) = %q, want %q", tt.loc, got, tt.want)
		}
	}
}

func TestJekyllCategoryPage(t *testing.T) {
	var b strings.Builder
	if err := JekyllCategoryPage(&b, testSite(), "zhongguoshuiwubao", `中国"税务"报`); err != nil {
		t.Fatal(err)
	}
	golden(t, "jekyll-category.html", []byte(b.String()))
	if JekyllCategoryPath("tax") != "category/tax.html" {
		t.Error(JekyllCategoryPath("tax"))
	}
}

func TestYAMLQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `""`},
		{"plain", `"plain"`},
		{`say "hi"`, `"say \"hi\""`},
		{`C:\dir`, `"C:\\dir"`},
		{"a\nb\tc\r", `"a\nb\tc\r"`},
		{"\x00\x01\x7f", `"\0\x01\x7F"`},
		{"\u0085\u2028\u2029\ufeff\u0090", `"\N\L\P\uFEFF\u0090"`},
		{"中文：标点，“引号”", `"中文：标点，“引号”"`},
		{"bad\xffutf8", "\"bad\uFFFDutf8\""},
	}
	for _, tt := range tests {
		if got := yamlQuote(tt.in); got != tt.want {
			t.Errorf("yamlQuote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestYAMLScalar(t *testing.T) {
	tests := []struct{ in, want string }{
		{"zhongguoshuiwubao", "zhongguoshuiwubao"},
		{"中国税务报新闻 个税", "中国税务报新闻 个税"},
		{"C&C c++", "C&C c++"},
		{"#hash a-tag", `"#hash a-tag"`},
		{"a: b", `"a: b"`},
		{"true", `"true"`},
		{"2022", `"2022"`},
		{"-x", `"-x"`},
		{`q"`, `"q\""`},
	}
	for _, tt := range tests {
		if got := yamlScalar(tt.in); got != tt.want {
			t.Errorf("yamlScalar(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func FuzzYAMLQuote(f *testing.F) {
	for _, s := range []string{"", `"\`, "a\x00b", "中文", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := yamlQuote(s)
		if !strings.HasPrefix(q, `"`) || !strings.HasSuffix(q, `"`) || len(q) < 2 {
			t.Fatalf("not quoted: %s", q)
		}
		inner := q[1 : len(q)-1]
		for i, r := range inner {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029 || r == 0xfeff {
				t.Fatalf("unescaped %U at %d in %s", r, i, q)
			}
			if r == '"' && (i == 0 || inner[i-1] != '\\') {
				t.Fatalf("unescaped quote in %s", q)
			}
		}
	})
}

// TestJekyllFrontMatterYAML reads the front matter back with a real YAML
// 1.1 parser (PyYAML, like Jekyll's Psych) when one is installed.
func TestJekyllFrontMatterYAML(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import yaml").Run(); err != nil {
		t.Skip("python3-yaml not installed")
	}
	titles := []string{
		`“税务”: "引号" \反斜杠\ 、《书名》——冒号：` + "\t制表\n换行\x01\u2028",
		`Re: "C:\Temp" & <b>tags</b>: a title`,
		"#not a comment: 'x' [y] {z} & *a !b |c >d %e @f `g",
	}
	tags := [][]string{{"tax law", "个税", "C&C"}, {"#hash", "a tag"}, {"true"}}
	const script = `import sys, yaml, json
doc = sys.stdin.read().split("---\n")[1]
d = yaml.safe_load(doc)
print(json.dumps({"title": d["title"], "tags": d["tags"], "date": str(d["date"])}))`
	for i, title := range titles {
		p := testPosts()[0]
		p.Title, p.Tags = title, tags[i]
		var b strings.Builder
		if err := Jekyll(&b, testSite(), p, "zhongguoshuiwubao", "x"); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("/usr/bin/python3", "-c", script)
		cmd.Stdin = strings.NewReader(b.String())
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("yaml: %v\n%s", err, b.String())
		}
		var got struct{ Title, Tags, Date string }
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		if got.Title != title {
			t.Errorf("title read back as %q, want %q", got.Title, title)
		}
		if want := jekyllTags(tags[i]); got.Tags != want {
			t.Errorf("tags read back as %q, want %q", got.Tags, want)
		}
		if got.Date != "2022-05-06 08:53:00 +0800" { // a string to YAML; Jekyll parses it
			t.Errorf("date read back as %q", got.Date)
		}
	}
}

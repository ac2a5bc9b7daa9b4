package feeds

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/refeed/refeed/storage"
)

// benchFeed is 50 posts with about 3 KB of HTML content each.
func benchFeed(ext string) Feed {
	f := testFeed(ext)
	para := "<p>" + strings.Repeat("国家税务总局发布个人所得税年度汇算公告 & tax <b>news</b>. ", 12) + "</p>\n"
	content := strings.Repeat(para, 3000/len(para)+1)[:3000]
	f.Posts = make([]storage.Post, 50)
	pub := time.Date(2022, 5, 6, 0, 53, 0, 0, time.UTC)
	for i := range f.Posts {
		p := testPosts()[0]
		p.ID = fmt.Sprintf("%016x", i)
		p.Title = fmt.Sprintf("第%d条：%s", i, p.Title)
		p.Content = content
		p.Published = pub.Add(-time.Duration(i) * time.Hour)
		p.Updated = p.Published
		f.Posts[i] = p
	}
	return f
}

func BenchmarkRSS(b *testing.B)  { benchRender(b, RSS, "rss") }
func BenchmarkAtom(b *testing.B) { benchRender(b, Atom, "atom") }
func BenchmarkJSON(b *testing.B) { benchRender(b, JSON, "json") }

func benchRender(b *testing.B, r renderer, ext string) {
	f := benchFeed(ext)
	var buf bytes.Buffer
	if err := r(&buf, f); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	for b.Loop() {
		if err := r(io.Discard, f); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPostPage(b *testing.B) {
	p := mustPages(b, testSite())
	d := testPostData()
	d.Post.Content = benchFeed("rss").Posts[0].Content
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Post(io.Discard, d); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzRender feeds arbitrary titles, content and tags through every format
// and checks the output stays well-formed XML / valid JSON.
func FuzzRender(f *testing.F) {
	f.Add("t", "<p>c</p>", "tag", "author")
	f.Add("a & b <c> ]]>", "\x00\x01\ufffe", "\"'", "")
	f.Add("中文标题", "<![CDATA[x]]>", "标 签", "作者")
	f.Fuzz(func(t *testing.T, title, content, tag, author string) {
		fd := testFeed("atom")
		fd.Posts[0].Title, fd.Posts[0].Content, fd.Posts[0].Author = title, content, author
		fd.Posts[1].Summary = content
		fd.Posts[0].Tags = []string{tag}
		for _, fm := range formats {
			out := render(t, fm.render, fd)
			if fm.ext == "json" {
				if !json.Valid(out) {
					t.Fatalf("invalid JSON:\n%s", out)
				}
				continue
			}
			d := xml.NewDecoder(bytes.NewReader(out))
			for {
				_, err := d.Token()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("%s not well-formed: %v\n%s", fm.ext, err, out)
				}
			}
		}
	})
}

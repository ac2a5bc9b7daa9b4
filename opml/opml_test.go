package opml

import (
	"bytes"
	"encoding/xml"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	in := Document{
		Title:   "finews",
		Created: time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC),
		Groups: []Group{
			{Title: "中国税务报新闻", Feeds: []Feed{{Title: "税务 & \"报\"", XMLURL: "https://example.org/rss?a=1&b=2", HTMLURL: "https://example.org/"}}},
			{Title: "Tech", Feeds: []Feed{{Title: "Go", XMLURL: "https://go.dev/blog/feed.atom"}}},
		},
	}
	var buf bytes.Buffer
	if err := Write(&buf, in); err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(buf.Bytes(), new(any)); err != nil {
		t.Fatalf("not well-formed: %v\n%s", err, buf.String())
	}
	if !strings.Contains(buf.String(), `<opml version="2.0">`) {
		t.Errorf("missing version:\n%s", buf.String())
	}
	out, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	out.Created = in.Created
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip:\n got %+v\nwant %+v", out, in)
	}
}

func TestReadNested(t *testing.T) {
	src := `<?xml version="1.0"?><opml version="1.0"><head><title>x</title></head><body>
<outline text="loose" xmlUrl="https://a.org/feed"/>
<outline text="News"><outline text="Finance"><outline title="FT" text="ft" xmlUrl="https://ft.com/rss" htmlUrl="https://ft.com"/></outline>
<outline text="BBC" xmlUrl="https://bbc.co.uk/rss"/></outline>
</body></opml>`
	d, err := Read(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	want := Document{Title: "x",
		Groups: []Group{
			{Title: "Finance", Feeds: []Feed{{Title: "FT", XMLURL: "https://ft.com/rss", HTMLURL: "https://ft.com"}}},
			{Title: "News", Feeds: []Feed{{Title: "BBC", XMLURL: "https://bbc.co.uk/rss"}}},
		},
		Feeds: []Feed{{Title: "loose", XMLURL: "https://a.org/feed"}},
	}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("got %+v\nwant %+v", d, want)
	}
}

func TestReadGarbage(t *testing.T) {
	if _, err := Read(strings.NewReader("not xml at all <<<")); err == nil {
		t.Error("no error for garbage")
	}
}

package aggregator

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/refeed/refeed/storage"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode"
)

// A body whose charset lies is recovered: GBK or Big5 bytes declared (or
// defaulted to) UTF-8, undeclared Latin-1, UTF-16 without a byte order
// mark. An honest body is not second-guessed.
func TestCharsetThatLies(t *testing.T) {
	zh := "国家税务总局发布关于个人所得税综合所得汇算清缴的公告，纳税人可以通过个人所得税应用程序办理退税。税务部门将持续优化服务。"
	tw := "財政部公布稅務新聞，納稅義務人應於期限內申報綜合所得稅，國稅局將提供線上服務並協助民眾辦理退稅。"
	fr := "Le café de la gare a été fermé après la réunion du conseil municipal, où l'on a discuté des impôts."
	feed := func(prolog, title string) string {
		return prolog + `<rss version="2.0"><channel><title>` + title + `</title><link>https://ex.org/</link>` +
			`<item><title>` + title + `</title><link>https://ex.org/1</link><description>` + title + `</description></item></channel></rss>`
	}
	enc := func(e encoding.Encoding, s string) string {
		b, err := e.NewEncoder().String(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name, body, contentType string
		title                   string
		mislabelled             bool
	}{
		{"gbk declared utf-8", feed(`<?xml version="1.0" encoding="utf-8"?>`, enc(simplifiedchinese.GBK, zh)), "", zh, true},
		{"gbk undeclared", feed(`<?xml version="1.0"?>`, enc(simplifiedchinese.GBK, zh)), "", zh, true},
		{"gbk, header says utf-8", feed("", enc(simplifiedchinese.GBK, zh)), "application/rss+xml; charset=utf-8", zh, true},
		{"big5 undeclared", feed("", enc(traditionalchinese.Big5, tw)), "", tw, true},
		{"latin-1 undeclared", feed("", enc(charmap.Windows1252, fr)), "", fr, true},
		{"utf-16le without a bom", enc(unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), feed(`<?xml version="1.0" encoding="utf-16"?>`, zh)), "", zh, true},
		{"short gbk title declared utf-8", feed(`<?xml version="1.0" encoding="utf-8"?>`, enc(simplifiedchinese.GBK, "税务新闻")), "", "税务新闻", true},
		{"short big5 title", feed("", enc(traditionalchinese.Big5, "財政部公布稅務新聞")), "", "財政部公布稅務新聞", true},
		{"short latin-1", feed("", enc(charmap.Windows1252, "Le café")), "", "Le café", true},
		{"honest utf-8", feed(`<?xml version="1.0" encoding="utf-8"?>`, zh), "", zh, false},
		{"honest gbk", feed(`<?xml version="1.0" encoding="gbk"?>`, enc(simplifiedchinese.GBK, zh)), "", zh, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, note, err := decodeBody([]byte(tt.body), tt.contentType)
			if err != nil {
				t.Fatal(err)
			}
			if (note != "") != tt.mislabelled {
				t.Errorf("mislabelled %q, want %v", note, tt.mislabelled)
			}
			feed, err := parse(body)
			if err != nil {
				t.Fatalf("parse: %v\n%.200q", err, body)
			}
			if got := strings.TrimSpace(feed.Items[0].Title); got != tt.title {
				t.Errorf("title %q, want %q (%s)", got, tt.title, note)
			}
		})
	}
}

// A poll of a source whose charset lies stores its posts decoded, and says
// so in the source's state (shown on /healthz); an honest poll clears it.
func TestPollRecordsMislabelledCharset(t *testing.T) {
	gbk, _ := simplifiedchinese.GBK.NewEncoder().String("国家税务总局发布关于个人所得税汇算清缴的公告")
	honest := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		title := gbk
		if honest {
			title = "国家税务总局"
		}
		fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title><link>https://ex.org/</link>`+
			`<item><title>%s</title><link>https://ex.org/1</link></item></channel></rss>`, title)
	}))
	defer srv.Close()
	store, c := newFakeStore(), newClock()
	a := newTestAggregator(t, store, c, src("s", srv.URL))
	if res, err := a.Poll(context.Background(), nil, false, nil); err != nil || len(res) != 1 || res[0].Status != storage.StatusOK {
		t.Fatalf("poll: %+v %v", res, err)
	}
	if st := store.state("s"); !strings.Contains(st.Warning, "gb18030") {
		t.Errorf("state warning %q, want the charset named", st.Warning)
	}
	if p := store.lastSave(t, "s").Posts; len(p) != 1 || p[0].Title != "国家税务总局发布关于个人所得税汇算清缴的公告" {
		t.Errorf("posts %+v", p)
	}
	honest = true
	c.Add(25 * time.Hour)
	a.Poll(context.Background(), nil, false, nil)
	if st := store.state("s"); st.Warning != "" {
		t.Errorf("warning %q after an honest poll", st.Warning)
	}
}

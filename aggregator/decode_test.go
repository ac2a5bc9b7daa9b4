package aggregator

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode"
)

// encodedFeed is an RSS document with title and body, encoded with enc and
// declaring label in its prolog (none when label is "").
func encodedFeed(t *testing.T, enc encoding.Encoding, label, title string) []byte {
	t.Helper()
	decl := `<?xml version="1.0"?>`
	if label != "" {
		decl = `<?xml version="1.0" encoding="` + label + `"?>`
	}
	doc := decl + "\n<rss version=\"2.0\"><channel><title>" + title + "</title><item><guid>1</guid><title>" + title + "</title></item></channel></rss>"
	out, err := enc.NewEncoder().Bytes([]byte(doc))
	if err != nil {
		t.Fatalf("encode fixture: %v", err)
	}
	return out
}

func TestDecodeCharsets(t *testing.T) {
	const zh = "国家税务总局：增值税发票𠀀管理"         // includes a GB18030 four-byte character
	const gbkText = "国家税务总局：增值税发票管理 镕 喆" // GBK-only characters outside GB2312
	tests := []struct {
		name        string
		enc         encoding.Encoding
		label       string
		contentType string
		text        string
	}{
		{"gbk prolog", simplifiedchinese.GBK, "GBK", "", gbkText},
		{"gb2312 label with gbk bytes", simplifiedchinese.GBK, "gb2312", "", gbkText},
		{"gb18030 prolog", simplifiedchinese.GB18030, "GB18030", "", zh},
		{"big5", traditionalchinese.Big5, "Big5", "", "國家稅務總局"},
		{"shift_jis", japanese.ShiftJIS, "Shift_JIS", "", "日本語のニュース"},
		{"euc-kr", korean.EUCKR, "EUC-KR", "", "한국어 뉴스"},
		{"windows-1252", charmap.Windows1252, "windows-1252", "", "Café “quoted” €"},
		{"iso-8859-1", charmap.ISO8859_1, "ISO-8859-1", "", "Ünïcödé"},
		{"header charset when prolog silent", simplifiedchinese.GBK, "", "application/rss+xml; charset=GBK", gbkText},
		{"prolog wins over header", simplifiedchinese.GBK, "gbk", "text/xml; charset=utf-8", gbkText},
		{"utf-16le bom", unicode.UTF16(unicode.LittleEndian, unicode.UseBOM), "UTF-16", "", zh},
		{"utf-16be bom", unicode.UTF16(unicode.BigEndian, unicode.UseBOM), "UTF-16", "", zh},
		{"utf-8 bom", unicode.UTF8BOM, "", "", zh},
		{"utf-8 bom beats a wrong prolog", unicode.UTF8BOM, "gbk", "", zh},
		{"utf-8 plain", unicode.UTF8, "", "", zh},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := encodedFeed(t, tt.enc, tt.label, tt.text)
			body, err := toUTF8(raw, tt.contentType)
			if err != nil {
				t.Fatal(err)
			}
			if !utf8.Valid(body) {
				t.Fatal("not valid UTF-8")
			}
			feed, err := parse(body)
			if err != nil {
				t.Fatalf("parse: %v\n%s", err, body[:min(len(body), 200)])
			}
			if feed.Title != tt.text || feed.Items[0].Title != tt.text {
				t.Errorf("title %q, want %q", feed.Title, tt.text)
			}
		})
	}
}

func TestDecodeDetails(t *testing.T) {
	t.Run("prolog rewritten to UTF-8", func(t *testing.T) {
		raw := encodedFeed(t, simplifiedchinese.GBK, "gbk", "税")
		body, _ := toUTF8(raw, "")
		if !bytes.HasPrefix(body, []byte(`<?xml version="1.0" encoding="UTF-8"?>`)) {
			t.Errorf("prolog: %s", body[:50])
		}
	})
	t.Run("leading whitespace and BOM stripped", func(t *testing.T) {
		body, _ := toUTF8([]byte("\xEF\xBB\xBF \r\n\t<rss/>"), "")
		if string(body) != "<rss/>" {
			t.Errorf("%q", body)
		}
	})
	t.Run("invalid bytes replaced", func(t *testing.T) {
		body, err := toUTF8([]byte("<rss>\xff\xfe bad \xc3</rss>"), "")
		if err != nil || !utf8.Valid(body) || !strings.Contains(string(body), "\uFFFD") {
			t.Errorf("%q %v", body, err)
		}
	})
	t.Run("json passes through", func(t *testing.T) {
		in := `{"version":"https://jsonfeed.org/version/1.1","title":"税"}`
		body, err := toUTF8([]byte("\xEF\xBB\xBF"+in), "application/feed+json; charset=gbk")
		if err != nil || string(body) != in {
			t.Errorf("%q %v", body, err)
		}
	})
	t.Run("unknown label on invalid UTF-8 is a charset error", func(t *testing.T) {
		_, err := toUTF8([]byte(`<?xml version="1.0" encoding="x-klingon"?><rss>`+"\xff</rss>"), "")
		if classify(err) != ClassCharset {
			t.Errorf("err %v class %q", err, classify(err))
		}
	})
	t.Run("unknown label on valid UTF-8 is read as UTF-8", func(t *testing.T) {
		body, err := toUTF8([]byte(`<?xml version="1.0" encoding="x-klingon"?><rss>税</rss>`), "")
		if err != nil || !strings.Contains(string(body), "税") {
			t.Errorf("%q %v", body, err)
		}
	})
}

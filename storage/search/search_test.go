package search

import (
	"slices"
	"strings"
	"testing"
)

func TestTokens(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"hello world", "hello world"},
		{"个人所得税", "个人 人所 所得 得税"},
		{"税", "税"},
		{"A股市场", "A 股市 市场"},
		{"iPhone15发布了新机型", "iPhone15 发布 布了 了新 新机 机型"},
		{"退税，汇算", "退税 ， 汇算"},
		{"東京タワー", "東京 京タ タワ ワー"},
		{"한국어", "한국 국어"},
		{"", ""},
	} {
		if got := Tokens(tc.in); got != tc.want {
			t.Errorf("Tokens(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestIndexableAndPrefix(t *testing.T) {
	for _, tc := range []struct {
		term              string
		indexable, prefix bool
	}{
		{"quick", true, true},
		{"退税", true, false},
		{"退税新政", true, false},
		{"税", false, false},
		{"A股", false, false},
		{`"`, false, false},
		{"%", false, false},
		{"/", false, false},
		{`say"hi"`, true, false},
		{"100%", true, false},
		{"v2", true, true},
	} {
		if got := Indexable(tc.term); got != tc.indexable {
			t.Errorf("Indexable(%q) = %v", tc.term, got)
		}
		if got := Prefix(tc.term); got != tc.prefix {
			t.Errorf("Prefix(%q) = %v", tc.term, got)
		}
	}
}

func TestShortCJKRun(t *testing.T) {
	for in, want := range map[string]bool{"税": true, "退税": false, "a税b": true, "税a": true, "a退税": false, "abc": false} {
		if got := shortCJKRun(in); got != want {
			t.Errorf("shortCJKRun(%q) = %v", in, got)
		}
	}
}

func TestBodyAndTerms(t *testing.T) {
	if got, want := strings.Join(strings.Fields(Body("<h1>个税</h1><p>Refund now</p>", "ignored")), " "), "个税 Refund now"; got != want {
		t.Errorf("Body = %q, want %q", got, want)
	}
	if got, want := Body("  ", "<p>summary only</p>"), "summary only"; got != want {
		t.Errorf("Body without content = %q, want %q", got, want)
	}
	if got, want := Terms(" a\tb\x00c  退税 "), []string{"a", "bc", "退税"}; !slices.Equal(got, want) {
		t.Errorf("Terms = %q, want %q", got, want)
	}
}

func TestWords(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"The Quick-Brown fox's", []string{"the", "quick", "brown", "fox", "s"}},
		{"Café crème à Paris", []string{"cafe", "creme", "a", "paris"}},
		{"Cafe\u0301 NFD", []string{"cafe", "nfd"}}, // a combining mark inside a word is dropped
		{"ÜBER Straße Ελληνικά", []string{"uber", "straße", "ελληνικα"}},
		{Tokens("个人所得税 A股"), []string{"个人", "人所", "所得", "得税", "a", "股"}},
		{"x86_64 v1.2.3 25°C", []string{"x86", "64", "v1", "2", "3", "25", "c"}},
		{"한국어 カタカナ ｆｕｌｌ", []string{"한국어", "カタカナ", "ｆｕｌｌ"}},
		{"  ,.;!  ", nil},
		{"カタカナ・テスト ゠〜", []string{"カタカナ", "テスト"}}, // kana punctuation separates, as in FTS5
	} {
		got := Words(tc.in)
		if !slices.Equal(got, tc.want) {
			t.Errorf("Words(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

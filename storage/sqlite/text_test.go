package sqlite

import (
	"context"
	"testing"

	"github.com/refeed/refeed/storage"
	"github.com/refeed/refeed/storage/search"
)

func TestFTSPhraseAndIndexable(t *testing.T) {
	for _, tc := range []struct {
		term      string
		indexable bool
		phrase    string
	}{
		{"quick", true, `"quick" *`},
		{"退税", true, `"退税"`},
		{"退税新政", true, `"退税 税新 新政"`},
		{"税", false, ""},
		{"A股", false, ""},
		{`"`, false, ""},
		{"%", false, ""},
		{`say"hi"`, true, `"say""hi"""`},
		{"100%", true, `"100%"`},
		{"NEAR(", true, `"NEAR("`},
	} {
		if got := search.Indexable(tc.term); got != tc.indexable {
			t.Errorf("indexable(%q) = %v", tc.term, got)
		}
		if tc.phrase != "" {
			if got := ftsPhrase(tc.term); got != tc.phrase {
				t.Errorf("ftsPhrase(%q) = %s, want %s", tc.term, got, tc.phrase)
			}
		}
	}
}

func FuzzSearchNeverErrors(f *testing.F) {
	for _, s := range []string{`"`, `*`, `(`, `AND`, `NEAR(a b)`, `-x`, `退税`, `税`, `a:b`, `%_\`, "\x00", `"a" OR "b"`} {
		f.Add(s)
	}
	s := mustOpen(f)
	ctx := context.Background()
	if err := s.SyncSources(ctx, []storage.SourceConfig{{Name: "a", Category: "x"}}); err != nil {
		f.Fatal(err)
	}
	if _, err := s.SavePoll(ctx, claimOf(s, "a"), storage.SourceState{}, []storage.Post{{Key: "guid:1", Title: "个人所得税 AND (fox)", Content: `<p>"quoted" 100% *star*</p>`}}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, q string) {
		if _, err := s.Posts(ctx, storage.Query{Search: q, Limit: 5}); err != nil {
			t.Errorf("Posts(Search: %q): %v", q, err)
		}
	})
}

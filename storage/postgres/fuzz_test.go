package postgres

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/refeed/refeed/storage/postgres/pgtest"
	"github.com/refeed/refeed/storage/search"
)

// FuzzSearchText: whatever a post's text or a search is, the tsvector and
// the tsquery built from it are accepted by PostgreSQL, and the post's own
// title, searched for, finds it when the index can.
func FuzzSearchText(f *testing.F) {
	for _, s := range [][3]string{
		{"个人所得税", "<p>汇算清缴</p>", "退税 quick"},
		{"It's O'Reilly\\", `<a href="x">'\\'</a>`, `'\' "x" :* <-> & | !`},
		{"Café ＡＢＣ 😀", "ー 々 〇 ⺀", "café"},
		{"", "", ""},
	} {
		f.Add(s[0], s[1], s[2])
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.URL(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { conn.Close(ctx) })
	f.Fuzz(func(t *testing.T, title, body, q string) {
		title, body, q = text(title), text(body), text(q)
		tsv := tsvector(title, body)
		var ok bool
		if err := conn.QueryRow(ctx, `SELECT $1::tsvector IS NOT NULL`, tsv).Scan(&ok); err != nil {
			t.Fatalf("tsvector of %q, %q: %v\n%s", title, body, err, tsv)
		}
		tq := tsquery(search.Terms(q))
		if tq == "" {
			return
		}
		if err := conn.QueryRow(ctx, `SELECT $1::tsvector @@ $2::tsquery`, tsv, tq).Scan(&ok); err != nil {
			t.Fatalf("tsquery of %q: %v\n%s", q, err, tq)
		}
		if q == title && len(search.Words(search.Tokens(q))) < 100 && !ok {
			t.Errorf("a post titled %q is not found by searching for its title (%s)", title, tq)
		}
	})
}

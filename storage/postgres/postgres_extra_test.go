package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/refeed/refeed/storage"
	"github.com/refeed/refeed/storage/postgres/pgtest"
	"github.com/refeed/refeed/storage/sqlite/sqlitetest"
	"github.com/refeed/refeed/storage/storagetest"
)

func mustOpen(t testing.TB, url string, opts ...Option) *Store {
	t.Helper()
	s, err := Open(context.Background(), url, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func sync1(t *testing.T, s storage.Store, names ...string) {
	t.Helper()
	var cfg []storage.SourceConfig
	for _, n := range names {
		cfg = append(cfg, storage.SourceConfig{Name: n, URL: "https://" + n + ".example/feed", Category: "c-" + n, Tags: []string{"t"}, Interval: time.Hour})
	}
	if err := s.SyncSources(context.Background(), cfg); err != nil {
		t.Fatalf("SyncSources: %v", err)
	}
}

// searchCorpus is text of every kind a search meets: Chinese, Japanese and
// Korean, diacritics, mixed scripts, numbers, punctuation, markup, URLs.
var searchCorpus = []struct{ title, content string }{
	{"国家税务总局发布退税新政策", "<p>个人所得税<b>汇算清缴</b>今日开始，A股市场反应平稳。</p>"},
	{"退税进度查询", "<p>纳税人可以在网上查询退税进度。税</p>"},
	{"The Quick Brown Fox", "<p>jumps over the lazy dog: 100% of the time, e-mail fox@example.com</p>"},
	{"Café crème à Paris", "<p>Naïve façade; coöperate. Ελληνικά κείμενα. Über große Straße</p>"},
	{"東京の天気 — 晴れ", "<p>今日は晴れです。カタカナ テスト ー カタカナ・テスト ゠ 〜</p>"},
	{"한국어 뉴스", "<p>서울의 날씨는 맑음. 경제 뉴스</p>"},
	{"Weather report", `<p>Sunny &amp; calm, 1/2 cloud, 25°C. See <a href="https://w.example/a?b=c">here</a></p>`},
	{"C++ and Go-lang 2026", "<p>x86_64, v1.2.3, don't stop; it's O'Reilly's</p>"},
	{"ＦＵＬＬＷＩＤＴＨ ｔｅｘｔ", "<p>全角 ａｂｃ １２３ and 中文English混合text</p>"},
	{"emoji 😀 post", "<p>😀😀 fire🔥works</p>"},
}

// TestSearchMatchesSQLite checks that a search finds the same posts on
// PostgreSQL as on SQLite, for hand-picked queries and for random pieces
// of the corpus's own text.
func TestSearchMatchesSQLite(t *testing.T) {
	pg := mustOpen(t, pgtest.URL(t))
	lite := sqlitetest.MustOpen(t)
	for _, s := range []storage.Store{pg, lite} {
		sync1(t, s, "a")
		var posts []storage.Post
		for i, c := range searchCorpus {
			posts = append(posts, storage.Post{Key: fmt.Sprintf("guid:%d", i), GUID: fmt.Sprint(i), Title: c.title,
				Content: c.content, Published: time.Unix(int64(1000+i), 0)})
		}
		storagetest.Save(t, s, "a", storage.SourceState{Status: storage.StatusOK}, posts...)
	}
	queries := []string{
		"退税", "税", "汇算清缴", "A股", "股市", "quick", "QUICK fox", "fox@example.com", "example", "exam",
		"cafe", "Café", "crème", "naive", "façade", "cooperate", "ελληνικά", "uber", "strasse", "straße", "große",
		"東京", "天気", "晴れ", "カタカナ", "ー", "カタカナ・テスト", "ナ・テ", "・", "ナテ", "한국어", "날씨는", "경제", "1/2", "25°C", "°", "&", "/", "=",
		"c++", "go-lang", "go", "lang", "2026", "x86_64", "x86", "v1.2.3", "don't", "o'reilly", "reilly's",
		"ｆｕｌｌ", "ＦＵＬＬＷＩＤＴＨ", "全角", "ａｂｃ", "中文english", "english混合", "混合text", "😀", "fire🔥",
		"🔥", "works", "href", "https", "w.example", "strong", "b", "p", "%", "_", "'", "\"", "the the", "lazy dog",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 400 {
		c := searchCorpus[rng.IntN(len(searchCorpus))]
		src := []rune(c.title + " " + storagetestText(c.content))
		i := rng.IntN(len(src))
		j := min(len(src), i+1+rng.IntN(8))
		queries = append(queries, string(src[i:j]))
	}
	ctx := context.Background()
	for _, q := range queries {
		var got [2][]string
		for k, s := range []storage.Store{pg, lite} {
			page, err := s.Posts(ctx, storage.Query{Search: q, Limit: 50})
			if err != nil {
				t.Fatalf("Posts(%q): %v", q, err)
			}
			for _, p := range page.Posts {
				got[k] = append(got[k], p.Title)
			}
		}
		if !slices.Equal(got[0], got[1]) {
			t.Errorf("search %q: PostgreSQL finds %q, SQLite %q", q, got[0], got[1])
		}
	}
}

// storagetestText is a crude plain text of HTML, to draw queries from.
func storagetestText(html string) string {
	var b strings.Builder
	in := false
	for _, r := range html {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
			b.WriteByte(' ')
		case !in:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// TestLongPostIndexed stores a post of 20,000 words (past PostgreSQL's
// 16,383 tsvector positions) and 1 MB of text: it is stored whole, its
// beginning is searchable, and nothing fails.
func TestLongPostIndexed(t *testing.T) {
	s := mustOpen(t, pgtest.URL(t))
	sync1(t, s, "a")
	var b strings.Builder
	b.WriteString("<p>")
	for i := range 20000 {
		fmt.Fprintf(&b, "w%d ", i)
	}
	b.WriteString("税务")
	for range 100000 {
		b.WriteString("长文")
	}
	b.WriteString("</p>")
	content := b.String()
	storagetest.Save(t, s, "a", storage.SourceState{Status: storage.StatusOK},
		storage.Post{Key: "guid:long", GUID: "long", Title: "long read", Content: content, Published: time.Unix(1000, 0)})
	ctx := context.Background()
	page, err := s.Posts(ctx, storage.Query{Limit: 1})
	if err != nil || len(page.Posts) != 1 || page.Posts[0].Content != content {
		t.Fatalf("the long post is not stored whole: %v", err)
	}
	for q, want := range map[string]int{"long": 1, "w0": 1, "w16000": 1, "w19999": 0, "w1": 1, "长": 1, "税": 1} {
		page, err := s.Posts(ctx, storage.Query{Search: q, Limit: 5})
		if err != nil {
			t.Fatalf("search %q: %v", q, err)
		}
		if len(page.Posts) != want {
			t.Errorf("search %q: %d posts, want %d", q, len(page.Posts), want)
		}
	}
}

// TestTwoInstancesSameLink saves the same links from two sources on two
// Stores (two instances) at the same moment, many times: each link is one
// post, credited to both sources.
func TestTwoInstancesSameLink(t *testing.T) {
	url := pgtest.URL(t)
	a, b := mustOpen(t, url), mustOpen(t, url)
	sync1(t, a, "a", "b")
	ctx := context.Background()
	const rounds, perRound = 20, 30
	for r := range rounds {
		var wg sync.WaitGroup
		for _, x := range []struct {
			s    *Store
			name string
		}{{a, "a"}, {b, "b"}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := storagetest.Claim(t, x.s, x.name)
				var posts []storage.Post
				for i := range perRound {
					k := perRound - 1 - i // b saves them in the other order: deadlocks are retried
					if x.name == "a" {
						k = i
					}
					link := fmt.Sprintf("https://news.example/%d/%d", r, k)
					posts = append(posts, storage.Post{Key: "link:" + link, Link: link, Title: link, Published: time.Unix(int64(r*100+k), 0)})
				}
				if _, err := x.s.SavePoll(ctx, c, storage.SourceState{Status: storage.StatusOK, NextPoll: time.Unix(1, 0)}, posts); err != nil {
					t.Errorf("SavePoll %s: %v", x.name, err)
				}
			}()
		}
		wg.Wait()
	}
	st, err := a.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Posts != rounds*perRound {
		t.Errorf("%d posts, want %d (one per link)", st.Posts, rounds*perRound)
	}
	for _, c := range st.Sources {
		if c.Posts != rounds*perRound {
			t.Errorf("source %s credits %d posts, want %d", c.Name, c.Posts, rounds*perRound)
		}
	}
}

// TestMigrateOnce opens one new database from several processes' worth of
// Stores at once: the schema is made once, and all of them work.
func TestMigrateOnce(t *testing.T) {
	url := pgtest.URL(t)
	var wg sync.WaitGroup
	stores := make([]*Store, 6)
	errs := make([]error, len(stores))
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = Open(context.Background(), url)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	var n int
	if err := stores[0].pool.QueryRow(context.Background(), `SELECT count(*) FROM refeed_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if want, _ := migrations(); n != len(want) {
		t.Errorf("%d migrations recorded, want %d", n, len(want))
	}
}

// TestRedact keeps passwords out of what refeed prints of a URL.
func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:secret@db.example:5432/refeed":             "postgres://u:xxxxx@db.example:5432/refeed",
		"postgres://db.example/refeed?password=secret&sslmode=x": "postgres://db.example/refeed?password=xxxxx&sslmode=x",
		"postgres://u@db.example/refeed":                         "postgres://u@db.example/refeed",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

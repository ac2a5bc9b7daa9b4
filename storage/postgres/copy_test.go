package postgres

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/refeed/refeed/storage"
	"github.com/refeed/refeed/storage/postgres/pgtest"
	"github.com/refeed/refeed/storage/sqlite/sqlitetest"
	"github.com/refeed/refeed/storage/storagetest"
)

// fillForCopy gives s a bit of everything a copy must keep: three
// sources with categories and tags, a link two sources share, a post
// updated in place, enclosures, poll state with a failure, and tombstones.
func fillForCopy(t *testing.T, s storage.Store) {
	ctx := context.Background()
	if err := s.SyncSources(ctx, []storage.SourceConfig{
		{Name: "a", URL: "https://a.example/feed", Category: "zhongguoshuiwubao", Tags: []string{"中国税务报新闻", "税务"}, Interval: time.Hour},
		{Name: "b", URL: "https://b.example/feed", Category: "caijing", Tags: []string{"税务"}, Interval: 30 * time.Minute},
		{Name: "c", URL: "https://c.example/feed", Category: "caijing", Interval: time.Hour},
	}); err != nil {
		t.Fatal(err)
	}
	ok := storage.SourceState{Status: storage.StatusOK, ETag: `"v1"`, Title: "源", SiteURL: "https://a.example/",
		LastPoll: time.Unix(5000, 0), LastSuccess: time.Unix(5000, 0), NextPoll: time.Unix(9000, 0)}
	var posts []storage.Post
	for i := range 30 {
		posts = append(posts, storage.Post{Key: fmt.Sprintf("guid:a%d", i), GUID: fmt.Sprintf("a%d", i),
			Link: fmt.Sprintf("https://news.example/%d", i), Title: fmt.Sprintf("个人所得税 %d", i),
			Content: "<p>汇算清缴 <b>退税</b> quick fox</p>", Published: time.Unix(int64(1000+i), 123456789),
			Enclosures: []storage.Enclosure{{URL: "https://a.example/a.mp3", Type: "audio/mpeg", Length: int64(i)}}})
	}
	storagetest.Save(t, s, "a", ok, posts...)
	posts[3].Content = "<p>changed</p>"
	storagetest.Save(t, s, "a", ok, posts...)
	storagetest.Save(t, s, "b", ok,
		storage.Post{Key: "link:https://news.example/1", Link: "https://news.example/1", Title: "same link", Published: time.Unix(1500, 0)},
		storage.Post{Key: "guid:b1", GUID: "b1", Title: "b only", Summary: "摘要", Published: time.Unix(1600, 0)})
	storagetest.Save(t, s, "c", storage.SourceState{Status: storage.StatusError, ErrorClass: "http_status", Error: "HTTP 503",
		Failures: 2, LastPoll: time.Unix(5000, 0), NextPoll: time.Unix(7000, 0)})
	// a0..a4 go; a1 stays, as b carries it: 27 posts, 5 tombstones.
	if _, err := s.Prune(ctx, time.Time{}, 25); err != nil {
		t.Fatal(err)
	}
}

func TestCopyRoundTrip(t *testing.T) {
	ctx := context.Background()
	lite := sqlitetest.MustOpen(t)
	fillForCopy(t, lite)
	pg := mustOpen(t, pgtest.URL(t))
	back := sqlitetest.MustOpen(t)

	for _, step := range []struct {
		name     string
		from     storage.Exporter
		to       storage.Importer
		wantPost int
	}{{"SQLite to PostgreSQL", lite, pg, 27}, {"PostgreSQL to SQLite", pg, back, 27}} {
		var progress []int
		rep, err := storage.Copy(ctx, step.from, step.to, storage.CopyOptions{Batch: 7, Progress: func(done, total int) {
			progress = append(progress, done)
		}})
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if rep.Posts != step.wantPost || rep.Sources != 3 || rep.Tombstones != 5 || rep.Sampled != step.wantPost {
			t.Errorf("%s: report %+v", step.name, rep)
		}
		if len(progress) != 4 || progress[len(progress)-1] != step.wantPost {
			t.Errorf("%s: progress %v", step.name, progress)
		}
		// A second copy is refused; resumed, it skips everything.
		if _, err := storage.Copy(ctx, step.from, step.to, storage.CopyOptions{}); !errors.Is(err, storage.ErrTargetNotEmpty) {
			t.Errorf("%s again: %v, want ErrTargetNotEmpty", step.name, err)
		}
		rep, err = storage.Copy(ctx, step.from, step.to, storage.CopyOptions{Resume: true})
		if err != nil || rep.Posts != 0 || rep.Skipped != step.wantPost {
			t.Errorf("%s resumed: %+v, %v", step.name, rep, err)
		}
	}
	// The copies search, list and dedupe as the original does.
	for _, s := range []storage.Store{pg, back} {
		for _, q := range []storage.Query{{Search: "退税", Limit: 50}, {Tag: "税务", Limit: 50}, {Category: "caijing", Limit: 50}} {
			want, err := lite.Posts(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Posts(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Posts) != len(want.Posts) || len(want.Posts) == 0 {
				t.Errorf("%T %+v: %d posts, want %d", s, q, len(got.Posts), len(want.Posts))
			}
		}
		// Still one post per link, and the tombstones hold.
		c := storagetest.Claim(t, s, "c")
		st, err := s.SavePoll(ctx, c, storage.SourceState{Status: storage.StatusOK}, []storage.Post{
			{Key: "link:https://news.example/29", Link: "https://news.example/29", Title: "x", Published: time.Unix(1, 0)}})
		if err != nil || st.New != 1 {
			t.Fatalf("save into the copy: %+v %v", st, err)
		}
		post, err := s.Posts(ctx, storage.Query{Source: "c", Limit: 5})
		if err != nil || len(post.Posts) != 1 || len(post.Posts[0].Sources) != 2 {
			t.Errorf("%T: the shared link is not one post of both sources: %+v %v", s, post.Posts, err)
		}
	}
}

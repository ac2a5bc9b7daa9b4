package storagetest

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/refeed/refeed/storage"
)

func testPruneByAge(f *fixture) {
	t := f.t
	f.sync(src("a", "x", "t"))
	var posts []storage.Post
	for i := range 1200 { // more than one batch, in a backend that batches
		posts = append(posts, post(fmt.Sprint("p", i), fmt.Sprint("old ", i), -i-1))
	}
	posts = append(posts, post("new", "new", 10))
	f.save("a", posts...)
	v := f.version()
	n, err := f.s.Prune(f.ctx, base(), 0)
	if err != nil {
		t.Fatalf("Prune: %v", err)
	}
	eq(t, "deleted", n, 1200)
	if f.version() == v {
		t.Errorf("Version unchanged by Prune")
	}
	for _, q := range []storage.Query{{}, {Category: "x"}, {Tag: "t"}, {Source: "a"}, {Search: "old"}, {Search: "new"}} {
		got := f.titles(q)
		if q.Search == "old" {
			eq(t, fmt.Sprintf("titles(%+v)", q), got, strs())
		} else {
			eq(t, fmt.Sprintf("titles(%+v)", q), got, []string{"new"})
		}
	}
	_, err = f.s.Post(f.ctx, storage.PostID("a", "guid:p0"))
	isNotFound(t, "Post(pruned)", err)
	eq(t, "source posts", f.source("a").Posts, 1)

	n, err = f.s.Prune(f.ctx, time.Time{}, 0)
	if err != nil || n != 0 {
		t.Errorf("Prune(no limits) = %d, %v", n, err)
	}
}

func testPrunePerSource(f *fixture) {
	t := f.t
	f.sync(src("a", "x", "ta"), src("b", "y", "tb"))
	var pa []storage.Post
	for i := range 10 {
		pa = append(pa, post(fmt.Sprint("a", i), fmt.Sprint("a", i), i))
	}
	shared := post("a0", "a0", 0) // a's oldest, b's newest
	shared.Key = "guid:b-shared"
	f.save("a", pa...)
	f.save("b", shared, post("b1", "b1", -5))

	n, err := f.s.Prune(f.ctx, time.Time{}, 3)
	if err != nil {
		t.Fatalf("Prune: %v", err)
	}
	eq(t, "deleted", n, 6) // a keeps a9, a8, a7; a1..a6 go; a0 stays for b
	eq(t, "source a", f.titles(storage.Query{Source: "a"}), []string{"a9", "a8", "a7"})
	eq(t, "source b", f.titles(storage.Query{Source: "b"}), []string{"a0", "b1"})
	eq(t, "category x", f.titles(storage.Query{Category: "x"}), []string{"a9", "a8", "a7"})
	p := f.post(storage.PostID("a", "guid:a0"))
	eq(t, "shared Sources", p.Sources, []string{"b"})
	eq(t, "shared Categories", p.Categories, []string{"y"})
}

func testStats(f *fixture) {
	t := f.t
	f.sync(src("a", "x", "t1"), src("b", "y", "t1", "t2"), src("c", "z", "t3"))
	f.save("a", post("a1", "a1", -60), post("a2", "a2", 0))
	shared := post("a1", "a1", -60)
	shared.Key = "guid:b-a1"
	f.save("b", post("b1", "b1", 60), shared)
	st, err := f.s.Stats(f.ctx)
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	eq(t, "Posts", st.Posts, 3)
	eq(t, "Categories", st.Categories, []storage.Count{cnt("x", 2), cnt("y", 2), cnt("z", 0)})
	eq(t, "Tags", st.Tags, []storage.Count{cnt("t1", 3), cnt("t2", 2), cnt("t3", 0)})
	eq(t, "Sources", st.Sources, []storage.Count{cnt("a", 2), cnt("b", 2), cnt("c", 0)})
	sameTime(t, "Oldest", st.Oldest, base().Add(-time.Hour))
	sameTime(t, "Newest", st.Newest, base().Add(time.Hour))
	if st.SizeBytes <= 0 {
		t.Errorf("SizeBytes = %d", st.SizeBytes)
	}
}

func testBackup(f *fixture) {
	t := f.t
	f.sync(src("a", "x"))
	f.save("a", post("1", "one", 1))
	b, ok := f.s.(storage.Backuper)
	if !ok {
		t.Skip("the backend has no Backup")
	}
	path := filepath.Join(t.TempDir(), "backup.db")
	for i := range 2 { // the second replaces the first
		if err := b.Backup(f.ctx, path); err != nil {
			t.Fatalf("Backup %d: %v", i, err)
		}
		fi, err := os.Stat(path)
		if err != nil || fi.Size() == 0 {
			t.Fatalf("backup file: %v, %v", fi, err)
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	eq(t, "files in the backup directory", len(entries), 1)
}

// testConcurrent polls several sources at once while reading.
func testConcurrent(f *fixture) {
	t := f.t
	const sources, polls, perPoll = 4, 5, 20
	var cfg []storage.SourceConfig
	for i := range sources {
		cfg = append(cfg, src(fmt.Sprint("s", i), "x", "t"))
	}
	f.sync(cfg...)
	var wg sync.WaitGroup
	errs := make(chan error, sources*polls*2)
	for i := range sources {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for p := range polls {
				var posts []storage.Post
				for k := range perPoll {
					posts = append(posts, post(fmt.Sprintf("s%d-%d-%d", i, p, k), "concurrent", p*perPoll+k))
				}
				if _, err := f.s.SavePoll(f.ctx, f.claim(fmt.Sprint("s", i)), storage.SourceState{Status: storage.StatusOK}, posts); err != nil {
					errs <- err
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range polls {
				if _, err := f.s.Posts(f.ctx, storage.Query{Category: "x", Search: "concurrent", Limit: 10}); err != nil {
					errs <- err
				}
				if _, err := f.s.Sources(f.ctx); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent: %v", err)
	}
	st, err := f.s.Stats(f.ctx)
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	eq(t, "Posts", st.Posts, sources*polls*perPoll)
}

func cnt(name string, posts int) storage.Count { return storage.Count{Name: name, Posts: posts} }

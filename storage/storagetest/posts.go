package storagetest

import (
	"fmt"
	"sort"
	"time"

	"github.com/refeed/refeed/storage"
)

func testInsert(f *fixture) {
	t := f.t
	f.sync(src("chinatax", "tax", "中国税务报新闻", "税务"))
	p := post("1", "国家税务总局公告", 0)
	p.Summary = "摘要"
	p.Author = "税务报"
	p.Image = "https://example.com/i.png"
	p.Enclosures = []storage.Enclosure{{URL: "https://example.com/a.mp3", Type: "audio/mpeg", Length: 1234}}
	p.FirstSeen = base().Add(time.Hour)
	q := post("2", "second", 5)
	st := f.save("chinatax", p, q)
	eq(t, "stats", st, storage.SaveStats{New: 2})

	id := storage.PostID("chinatax", "guid:1")
	got := f.post(id)
	eq(t, "ID", got.ID, id)
	eq(t, "Key", got.Key, p.Key)
	eq(t, "GUID", got.GUID, p.GUID)
	eq(t, "Link", got.Link, p.Link)
	eq(t, "Title", got.Title, p.Title)
	eq(t, "Content", got.Content, p.Content)
	eq(t, "Summary", got.Summary, p.Summary)
	eq(t, "Author", got.Author, p.Author)
	eq(t, "Image", got.Image, p.Image)
	eq(t, "Enclosures", got.Enclosures, p.Enclosures)
	eq(t, "Hash", got.Hash, p.Hash)
	sameTime(t, "Published", got.Published, p.Published)
	sameTime(t, "Updated", got.Updated, p.Published) // never changed
	sameTime(t, "FirstSeen", got.FirstSeen, p.FirstSeen)
	eq(t, "Sources", got.Sources, []string{"chinatax"})
	eq(t, "Categories", got.Categories, []string{"tax"})
	eq(t, "Tags", got.Tags, []string{"中国税务报新闻", "税务"})

	q2 := f.post(storage.PostID("chinatax", "guid:2"))
	if q2.FirstSeen.IsZero() {
		t.Errorf("FirstSeen not set when the caller left it zero")
	}
	eq(t, "Enclosures without any", len(q2.Enclosures), 0)
	eq(t, "Sources().Posts", f.source("chinatax").Posts, 2)
}

func testNotFound(f *fixture) {
	t := f.t
	f.sync(src("a", "x"))
	_, err := f.s.Post(f.ctx, "0123456789abcdef")
	isNotFound(t, "Post(unknown)", err)
	_, err = f.s.Source(f.ctx, "nope")
	isNotFound(t, "Source(unknown)", err)
	_, err = f.s.SavePoll(f.ctx, storage.Claim{Source: "nope", Token: 1}, storage.SourceState{}, []storage.Post{post("1", "x", 0)})
	isNotFound(t, "SavePoll(unknown source)", err)
	eq(t, "posts after failed SavePoll", len(f.page(storage.Query{}).Posts), 0)
	eq(t, "unknown category", len(f.page(storage.Query{Category: "nope"}).Posts), 0)
}

func testUpdateInPlace(f *fixture) {
	t := f.t
	f.sync(src("a", "x"))
	p := post("1", "old title", 0)
	f.save("a", p)
	id := storage.PostID("a", "guid:1")
	before := f.post(id)

	eq(t, "resave identical", f.save("a", p), storage.SaveStats{Unchanged: 1})

	p2 := p
	p2.Title, p2.Content, p2.Hash = "new title", "<p>new</p>", "h-new"
	p2.Summary, p2.Author = "new summary", "new author"
	p2.Published = base().Add(48 * time.Hour) // a feed changing its date does not move the post
	p2.Updated = base().Add(2 * time.Hour)
	eq(t, "changed", f.save("a", p2), storage.SaveStats{Updated: 1})
	got := f.post(id)
	eq(t, "ID", got.ID, id)
	eq(t, "Title", got.Title, "new title")
	eq(t, "Content", got.Content, "<p>new</p>")
	eq(t, "Summary", got.Summary, "new summary")
	eq(t, "Author", got.Author, "new author")
	eq(t, "Hash", got.Hash, "h-new")
	sameTime(t, "Published", got.Published, before.Published)
	sameTime(t, "Updated", got.Updated, p2.Updated)

	// Changed again, without an Updated date: Updated still moves forward.
	p3 := p2
	p3.Title, p3.Hash, p3.Updated = "third title", "h-third", time.Time{}
	eq(t, "changed again", f.save("a", p3), storage.SaveStats{Updated: 1})
	got3 := f.post(id)
	if !got3.Updated.After(got.Updated) {
		t.Errorf("Updated = %v, want after %v", got3.Updated, got.Updated)
	}
	eq(t, "posts", len(f.page(storage.Query{}).Posts), 1)
	eq(t, "search finds new title", f.titles(storage.Query{Search: "third"}), []string{"third title"})
	eq(t, "search forgets old title", len(f.titles(storage.Query{Search: "old title"})), 0)
}

func testDedupeByGUID(f *fixture) {
	t := f.t
	f.sync(src("a", "x"))
	p := post("g1", "one", 0)
	eq(t, "twice in one poll", f.save("a", p, p), storage.SaveStats{New: 1, Unchanged: 1})
	p.Link = "https://example.com/moved" // same GUID, new link: same post
	eq(t, "again", f.save("a", p), storage.SaveStats{Unchanged: 1})
	eq(t, "posts", len(f.page(storage.Query{}).Posts), 1)
}

func testDedupeByLink(f *fixture) {
	t := f.t
	f.sync(src("a", "x", "ta"), src("b", "y", "tb", "ta"))
	pa := post("a-1", "shared story", 0)
	pb := pa
	pb.Key, pb.GUID, pb.Hash, pb.Content = "guid:b-99", "b-99", "h-other", "<p>b's copy</p>"
	f.save("a", pa)
	v := f.version()
	eq(t, "b's stats", f.save("b", pb), storage.SaveStats{New: 1})
	if f.version() == v {
		t.Errorf("Version unchanged after a post was credited to a second source")
	}
	// b's copy differs, but the post is not rewritten back and forth.
	eq(t, "a again", f.save("a", pa), storage.SaveStats{Unchanged: 1})
	eq(t, "b again", f.save("b", pb), storage.SaveStats{Unchanged: 1})

	all := f.page(storage.Query{}).Posts
	if len(all) != 1 {
		t.Fatalf("posts = %d, want 1", len(all))
	}
	got := all[0]
	eq(t, "ID", got.ID, storage.PostID("a", "guid:a-1"))
	eq(t, "Sources", got.Sources, []string{"a", "b"})
	eq(t, "Categories", got.Categories, []string{"x", "y"})
	eq(t, "Tags", got.Tags, []string{"ta", "tb"})
	for _, q := range []storage.Query{
		{Category: "x"}, {Category: "y"}, {Tag: "ta"}, {Tag: "tb"}, {Source: "a"}, {Source: "b"},
	} {
		eq(t, fmt.Sprintf("titles(%+v)", q), f.titles(q), []string{"shared story"})
	}
	eq(t, "b's post count", f.source("b").Posts, 1)
}

// A feed that gives several items the same link (its home page) keeps them
// as separate posts.
func testSameLinkWithinSource(f *fixture) {
	t := f.t
	f.sync(src("a", "x"))
	p1, p2 := post("1", "one", 0), post("2", "two", 1)
	p1.Link, p2.Link = "https://a.example/", "https://a.example/"
	eq(t, "stats", f.save("a", p1, p2), storage.SaveStats{New: 2})
	eq(t, "titles", f.titles(storage.Query{}), []string{"two", "one"})
}

func testHashIdentity(f *fixture) {
	t := f.t
	f.sync(src("a", "x"))
	p := storage.Post{Key: "hash:abc123", Title: "no guid no link", Content: "<p>c</p>", Hash: "abc123",
		Published: base()}
	eq(t, "first", f.save("a", p), storage.SaveStats{New: 1})
	eq(t, "second", f.save("a", p), storage.SaveStats{Unchanged: 1})
	got := f.post(storage.PostID("a", "hash:abc123"))
	eq(t, "Link", got.Link, "")
	eq(t, "Key", got.Key, "hash:abc123")
	eq(t, "posts", len(f.page(storage.Query{}).Posts), 1)
}

func testOrdering(f *fixture) {
	t := f.t
	f.sync(src("a", "x", "t"))
	var posts []storage.Post
	for i, m := range []int{5, -10, 30, 5, 0, 5} {
		posts = append(posts, post(fmt.Sprint("k", i), fmt.Sprint("t", i), m))
	}
	f.save("a", posts...)
	// Newest first; equal times by ID, descending.
	sort.SliceStable(posts, func(i, j int) bool {
		pi, pj := posts[i], posts[j]
		if !pi.Published.Equal(pj.Published) {
			return pi.Published.After(pj.Published)
		}
		return storage.PostID("a", pi.Key) > storage.PostID("a", pj.Key)
	})
	var want []string
	for _, p := range posts {
		want = append(want, p.Title)
	}
	eq(t, "order", f.titles(storage.Query{}), want)
	eq(t, "order by category", f.titles(storage.Query{Category: "x"}), want)
	eq(t, "order by source", f.titles(storage.Query{Source: "a"}), want)
	eq(t, "order by tag", f.titles(storage.Query{Tag: "t"}), want)
}

func testCursorPaging(f *fixture) {
	t := f.t
	f.sync(src("a", "x", "t"), src("b", "x", "t"))
	const n = 230
	var pa, pb []storage.Post
	for i := range n {
		p := post(fmt.Sprint("p", i), fmt.Sprint("title ", i), i/7) // 7 posts share each time
		if i%2 == 0 {
			pa = append(pa, p)
		} else {
			pb = append(pb, p)
		}
	}
	f.save("a", pa...)
	f.save("b", pb...)
	for _, q := range []storage.Query{{}, {Category: "x"}, {Tag: "t"}, {Source: "a"}} {
		want := n
		if q.Source != "" {
			want = len(pa)
		}
		full := f.page(storage.Query{Category: q.Category, Tag: q.Tag, Source: q.Source, Limit: 1000})
		if len(full.Posts) != want || full.Next != nil {
			t.Fatalf("%+v: one big page has %d posts, next %v", q, len(full.Posts), full.Next)
		}
		for _, limit := range []int{1, 7, 25, 229, 230} {
			q := q
			q.Limit = limit
			seen := map[string]bool{}
			var got []string
			for {
				page := f.page(q)
				if len(page.Posts) > limit {
					t.Fatalf("page of %d with limit %d", len(page.Posts), limit)
				}
				for _, p := range page.Posts {
					if seen[p.ID] {
						t.Fatalf("limit %d: post %s twice", limit, p.ID)
					}
					seen[p.ID] = true
					got = append(got, p.ID)
				}
				if page.Next == nil {
					break
				}
				// Cursors survive encoding, as they do in URLs.
				c, err := storage.DecodeCursor(page.Next.Encode())
				if err != nil {
					t.Fatalf("DecodeCursor: %v", err)
				}
				q.Before = &c
			}
			for i, p := range full.Posts {
				if i >= len(got) || got[i] != p.ID {
					t.Fatalf("%+v: paged listing differs from the full one at %d (got %d posts)", q, i, len(got))
				}
			}
		}
	}
	// The last page has no Next.
	last := f.page(storage.Query{Limit: n})
	if last.Next != nil {
		t.Errorf("Next = %v on a page holding every post", last.Next)
	}
}

func testFilters(f *fixture) {
	t := f.t
	f.sync(src("a", "x", "t1"), src("b", "y", "t1", "t2"), src("c", "y"))
	f.save("a", post("a1", "a1", 1), post("a2", "a2", 2))
	f.save("b", post("b1", "b1", 3))
	f.save("c", post("c1", "c1", 4))
	for _, tc := range []struct {
		q    storage.Query
		want []string
	}{
		{storage.Query{}, []string{"c1", "b1", "a2", "a1"}},
		{storage.Query{Category: "x"}, []string{"a2", "a1"}},
		{storage.Query{Category: "y"}, []string{"c1", "b1"}},
		{storage.Query{Tag: "t1"}, []string{"b1", "a2", "a1"}},
		{storage.Query{Tag: "t2"}, []string{"b1"}},
		{storage.Query{Source: "a"}, []string{"a2", "a1"}},
		{storage.Query{Source: "c"}, []string{"c1"}},
		{storage.Query{Category: "z"}, nil},
		{storage.Query{Tag: "z"}, nil},
		{storage.Query{Source: "z"}, nil},
	} {
		eq(t, fmt.Sprintf("titles(%+v)", tc.q), f.titles(tc.q), strs(tc.want...))
	}
	c := f.post(storage.PostID("c", "guid:c1"))
	eq(t, "Tags of a post of a source without tags", len(c.Tags), 0)
}

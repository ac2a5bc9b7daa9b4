package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/refeed/refeed/storage/postgres/pgtest"
)

// The tests here run several refeed processes (built binaries) on one
// PostgreSQL database, as SPEC's "Several instances" describes.

// fixture is a site of many feeds that counts fetches per path. A feed's
// items carry the number of the fetch that served them, so a stale save
// shows.
type fixture struct {
	srv   *httptest.Server
	mu    sync.Mutex
	hits  map[string][]time.Time
	delay time.Duration
	extra map[string]int // path → extra items to serve (a new post)
}

func newFixture(t *testing.T, delay time.Duration) *fixture {
	f := &fixture{hits: map[string][]time.Time{}, delay: delay, extra: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.hits[r.URL.Path] = append(f.hits[r.URL.Path], time.Now())
		n, extra, delay := len(f.hits[r.URL.Path]), f.extra[r.URL.Path], f.delay
		f.mu.Unlock()
		time.Sleep(delay)
		w.Header().Set("Content-Type", "application/rss+xml")
		p := r.URL.Path
		fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>feed %s</title><link>https://site.example%s</link>`, p, p)
		for i := range 2 + extra {
			fmt.Fprintf(w, `<item><title>%s item %d fetch %d</title><link>https://site.example%s/%d</link><guid>%s-%d</guid>`+
				`<pubDate>Mon, 0%d Dec 2026 08:00:00 +0800</pubDate><description>正文 %s</description></item>`, p, i, n, p, i, p, i, i+1, p)
		}
		fmt.Fprint(w, `</channel></rss>`)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// counts returns the number of fetches of each path.
func (f *fixture) counts() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := make(map[string]int, len(f.hits))
	for p, h := range f.hits {
		m[p] = len(h)
	}
	return m
}

func (f *fixture) total() int {
	n := 0
	for _, c := range f.counts() {
		n += c
	}
	return n
}

// cluster is n `refeed serve` processes on one database and one config
// (each with its own listen address: they share one machine here).
type cluster struct {
	url     string
	cfgs    []string
	ports   []int
	procs   []*bgProc
	sources int
}

// instanceConfig writes the config of instance i.
func instanceConfig(t *testing.T, dir, dbURL, feeds string, sources, port int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `title = "finews"
base_url = "https://news.example"
timezone = "Asia/Shanghai"
language = "zh-CN"

[server]
listen = "127.0.0.1:%d"

[storage]
url = %q

[poll]
interval = "1h"
timeout = "1s"
lease = "4s"
concurrency = 8
per_host = 8
`, port, dbURL)
	for c := range 10 {
		fmt.Fprintf(&b, "\n[[category]]\nslug = \"c%d\"\ntitle = \"分类 %d\"\n", c, c)
	}
	for i := range sources {
		fmt.Fprintf(&b, "\n[[source]]\nname = \"s%03d\"\nurl = \"%s/s%03d\"\ncategory = \"c%d\"\ntags = [\"t%d\"]\n", i, feeds, i, i%10, i%5)
	}
	path := filepath.Join(dir, fmt.Sprintf("config-%d.toml", port))
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func startCluster(t *testing.T, f *fixture, n, sources int) *cluster {
	// A stopped instance's transaction is ended by the server after 3 s
	// here (60 s by default), so that its rows are claimable within the test.
	c := &cluster{url: pgtest.URL(t) + "&idle_in_transaction_session_timeout=3s", sources: sources}
	dir := t.TempDir()
	for range n {
		port := freePort(t)
		c.ports = append(c.ports, port)
		c.cfgs = append(c.cfgs, instanceConfig(t, dir, c.url, f.srv.URL, sources, port))
	}
	// The first start migrates the schema and syncs the sources; the
	// others start together after it, as a rollout would.
	for _, cfg := range c.cfgs {
		c.procs = append(c.procs, startRefeed(t, "serve", "-c", cfg))
	}
	for _, port := range c.ports {
		waitHTTP(t, port)
	}
	return c
}

// waitHTTP waits until an instance answers /healthz.
func waitHTTP(t *testing.T, port int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", port)); err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("instance on port %d did not start", port)
}

// health returns the sources' statuses as instance i reports them.
func (c *cluster) health(t *testing.T, i int) map[string]string {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", c.ports[i]))
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var h struct {
		Sources []struct{ Name, Status string } `json:"sources"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		return nil
	}
	m := map[string]string{}
	for _, s := range h.Sources {
		m[s.Name] = s.Status
	}
	return m
}

// waitAllOK waits until instance i reports every source polled.
func (c *cluster) waitAllOK(t *testing.T, i int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		h := c.health(t, i)
		ok := 0
		for _, st := range h {
			if st == "ok" {
				ok++
			}
		}
		if ok == c.sources {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v, %d of %d sources polled", within, ok, c.sources)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// get fetches path from instance i.
func (c *cluster) get(t *testing.T, i int, path string, header ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d%s", c.ports[i], path), nil)
	for j := 0; j+1 < len(header); j += 2 {
		req.Header.Set(header[j], header[j+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s from instance %d: %v", path, i, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// posts reads every post's title by GUID straight from the database.
func (c *cluster) posts(t *testing.T) map[string]string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT guid, title FROM posts`)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for rows.Next() {
		var guid, title string
		if err := rows.Scan(&guid, &title); err != nil {
			t.Fatal(err)
		}
		if _, dup := m[guid]; dup {
			t.Errorf("post %s stored twice", guid)
		}
		m[guid] = title
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return m
}

// Three serve instances and a `refeed poll` that joins mid-round fetch each
// of 600 sources exactly once; all three then answer every URL with the
// same bytes and validators, a reader's ETag from one gets a 304 from
// another, and a post saved by another process shows on all three within
// seconds.
func TestInstancesShareOneRound(t *testing.T) {
	const sources = 600
	f := newFixture(t, 40*time.Millisecond)
	c := startCluster(t, f, 3, sources)
	for f.total() < 20 {
		time.Sleep(5 * time.Millisecond)
	}
	poll := runRefeed(t, "poll", "-c", c.cfgs[0])
	if poll.code != exitOK {
		t.Fatalf("refeed poll: exit %d\n%s", poll.code, poll.stderr)
	}
	c.waitAllOK(t, 1, 60*time.Second)
	time.Sleep(time.Second) // a second fetch would come now
	var twice []string
	counts := f.counts()
	for p, n := range counts {
		if n != 1 {
			twice = append(twice, fmt.Sprintf("%s×%d", p, n))
		}
	}
	if len(counts) != sources || len(twice) > 0 {
		t.Errorf("%d of %d sources fetched; more than once: %v", len(counts), sources, twice)
	}
	t.Logf("refeed poll joined mid-round and polled %d sources; the three serves the rest", strings.Count(poll.stdout, " ok "))
	if posts := c.posts(t); len(posts) != 2*sources {
		t.Errorf("%d posts stored, want %d", len(posts), 2*sources)
	}

	for _, path := range []string{"/feed.atom", "/feed.rss", "/feed.json", "/category/c3.atom", "/category/c3.html",
		"/tag/t1.rss", "/source/s007.json", "/source/s007.html", "/", "/sources.opml", "/feed.atom?limit=5"} {
		r0, b0 := c.get(t, 0, path)
		if r0.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", path, r0.Status)
		}
		for i := 1; i < 3; i++ {
			r, b := c.get(t, i, path)
			if b != b0 || r.Header.Get("ETag") != r0.Header.Get("ETag") || r.Header.Get("Last-Modified") != r0.Header.Get("Last-Modified") {
				t.Errorf("GET %s: instance %d answers %s %s (%d bytes), instance 0 %s %s (%d bytes)", path, i,
					r.Header.Get("ETag"), r.Header.Get("Last-Modified"), len(b), r0.Header.Get("ETag"), r0.Header.Get("Last-Modified"), len(b0))
			}
			if r, _ := c.get(t, i, path, "If-None-Match", r0.Header.Get("ETag")); r.StatusCode != http.StatusNotModified {
				t.Errorf("GET %s on instance %d with instance 0's ETag: %s, want 304", path, i, r.Status)
			}
		}
	}

	// A new post, saved by a refeed poll beside them, shows on all three.
	f.mu.Lock()
	f.extra["/s005"] = 1
	f.mu.Unlock()
	if r := runRefeed(t, "poll", "-c", c.cfgs[0], "-source", "s005", "-force"); r.code != exitOK {
		t.Fatalf("refeed poll -source s005: exit %d\n%s", r.code, r.stderr)
	}
	saved := time.Now()
	for i := range 3 {
		for {
			if _, b := c.get(t, i, "/source/s005.atom"); strings.Contains(b, "/s005 item 2 fetch") {
				t.Logf("instance %d shows the new post %v after it was saved", i, time.Since(saved).Round(10*time.Millisecond))
				break
			}
			if time.Since(saved) > 5*time.Second {
				t.Fatalf("instance %d does not show the new post 5 s after it was saved", i)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// An instance killed with kill -9 mid-round has its sources taken over
// once its leases expire; no post is lost or stored twice.
func TestInstanceKilledMidRound(t *testing.T) {
	const sources = 600
	f := newFixture(t, 150*time.Millisecond)
	c := startCluster(t, f, 3, sources)
	for f.total() < 150 {
		time.Sleep(5 * time.Millisecond)
	}
	c.procs[0].cmd.Process.Signal(syscall.SIGKILL)
	killed := time.Now()
	c.waitAllOK(t, 1, 60*time.Second)
	time.Sleep(500 * time.Millisecond)
	f.mu.Lock()
	var again []string
	for p, h := range f.hits {
		if len(h) > 2 {
			t.Errorf("%s fetched %d times", p, len(h))
		}
		if len(h) == 2 {
			again = append(again, p)
			if wait := h[1].Sub(killed); wait < 3*time.Second {
				t.Errorf("%s fetched again %v after the kill, before its 4 s lease ran out", p, wait)
			}
		}
	}
	if len(f.hits) != sources {
		t.Errorf("%d of %d sources fetched", len(f.hits), sources)
	}
	f.mu.Unlock()
	t.Logf("the killed instance left %d sources claimed; the others took them over after the lease", len(again))
	if len(again) > 32 {
		t.Errorf("%d sources fetched twice: more than the killed instance could hold (4 × concurrency)", len(again))
	}
	if posts := c.posts(t); len(posts) != 2*sources {
		t.Errorf("%d posts stored, want %d", len(posts), 2*sources)
	}
}

// An instance stopped (SIGSTOP) past its leases, then continued, writes
// nothing stale: the sources it held were polled again by the others, and
// its late saves are refused by the fencing token.
func TestInstanceStalledPastLease(t *testing.T) {
	const sources = 600
	f := newFixture(t, 150*time.Millisecond)
	c := startCluster(t, f, 3, sources)
	for f.total() < 150 {
		time.Sleep(5 * time.Millisecond)
	}
	stalled := c.procs[0].cmd.Process
	stalled.Signal(syscall.SIGSTOP)
	c.waitAllOK(t, 1, 60*time.Second)
	stalled.Signal(syscall.SIGCONT)
	time.Sleep(3 * time.Second) // its stale saves come now, and are refused
	if !c.procs[0].running() {
		t.Fatal("the continued instance exited")
	}
	posts := c.posts(t)
	if len(posts) != 2*sources {
		t.Errorf("%d posts stored, want %d", len(posts), 2*sources)
	}
	stale := 0
	for p, n := range f.counts() {
		want := fmt.Sprintf("fetch %d", n)
		for i := range 2 {
			guid := fmt.Sprintf("%s-%d", p, i)
			if title := posts[guid]; !strings.HasSuffix(title, want) {
				stale++
				t.Errorf("post %s is %q: not from the source's last fetch (%s)", guid, title, want)
			}
		}
	}
	if stale == 0 {
		t.Logf("%d sources fetched twice (the stalled instance's, taken over); every post is from the last fetch", len(f.counts())-countOnce(f.counts()))
	}
}

func countOnce(m map[string]int) int {
	n := 0
	for _, c := range m {
		if c == 1 {
			n++
		}
	}
	return n
}

// refeed migrate-db copies a SQLite database into PostgreSQL and back, and
// every page and feed served from each copy has the bytes, ETag and
// Last-Modified of the original.
func TestMigrateDBRoundTrip(t *testing.T) {
	pgURL := pgtest.URL(t)
	port := freePort(t)
	dir, cfg := siteDir(t, port, "")
	if r := runRefeed(t, "poll", "-c", cfg); r.code != exitOK {
		t.Fatalf("poll: exit %d\n%s", r.code, r.stderr)
	}
	original := serveSnapshot(t, cfg, port, nil)

	if r := runRefeed(t, "migrate-db", "-c", cfg, "-to", pgURL); r.code != exitOK || !strings.Contains(r.stdout, "verified counts") {
		t.Fatalf("migrate-db to PostgreSQL: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runRefeed(t, "migrate-db", "-c", cfg, "-to", pgURL); r.code != exitUsage || !strings.Contains(r.stderr, "not empty") {
		t.Errorf("migrate-db into a non-empty target: exit %d\n%s", r.code, r.stderr)
	}
	pgCfg := filepath.Join(dir, "pg.toml")
	writeConfig(t, pgCfg, port, fmt.Sprintf("\n[storage]\nurl = %q\n", pgURL))
	serveSnapshot(t, pgCfg, port, original)

	back := filepath.Join(dir, "back.db")
	if r := runRefeed(t, "migrate-db", "-c", pgCfg, "-to", "sqlite:"+back); r.code != exitOK {
		t.Fatalf("migrate-db back to SQLite: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	backCfg := filepath.Join(dir, "back.toml")
	writeConfig(t, backCfg, port, fmt.Sprintf("\n[storage]\npath = %q\n", back))
	serveSnapshot(t, backCfg, port, original)
}

// snapshot is what a server answered for each path: status, validators
// and body.
type snapshot map[string]string

// serveSnapshot serves cfg without polling, fetches every page and feed,
// and compares them with want (when given).
func serveSnapshot(t *testing.T, cfg string, port int, want snapshot) snapshot {
	t.Helper()
	p := startRefeed(t, "serve", "-poll=false", "-c", cfg)
	waitHTTP(t, port)
	c := &cluster{ports: []int{port}}
	_, home := c.get(t, 0, "/")
	paths := []string{"/", "/feed.rss", "/feed.atom", "/feed.json", "/sources.opml", "/search?q=%E7%A8%8E",
		"/feed.atom?q=%E9%80%80%E7%A8%8E", "/feed.json?limit=2"}
	for _, l := range []string{"category/zhongguoshuiwubao", "category/markets", "tag/%E4%B8%AD%E5%9B%BD%E7%A8%8E%E5%8A%A1%E6%8A%A5%E6%96%B0%E9%97%BB",
		"tag/%E6%94%BF%E7%AD%96%E8%A7%A3%E8%AF%BB", "source/chinatax", "source/shuiwu-policy", "source/markets"} {
		for _, ext := range []string{"html", "rss", "atom", "json"} {
			paths = append(paths, "/"+l+"."+ext)
		}
	}
	posts := postLink.FindAllString(home, -1)
	if len(posts) < 10 {
		t.Fatalf("the home page links %d posts, want the samples' 10 or more", len(posts))
	}
	paths = append(paths, posts...)
	got := snapshot{}
	for _, path := range paths {
		r, b := c.get(t, 0, path)
		got[path] = fmt.Sprintf("%s\nETag: %s\nLast-Modified: %s\n\n%s", r.Status, r.Header.Get("ETag"), r.Header.Get("Last-Modified"), b)
		if want != nil && got[path] != want[path] {
			t.Errorf("%s: GET %s differs from the original database's:\n%.600s\n---- original:\n%.600s", filepath.Base(cfg), path, got[path], want[path])
		}
	}
	if want != nil {
		t.Logf("%s: %d pages and feeds as the original's", filepath.Base(cfg), len(paths))
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.wait(t, 20*time.Second)
	return got
}

var postLink = regexp.MustCompile(`/post/[0-9a-f]+\.html`)

// A rollout: one instance still runs the old config (sources s000..s009),
// one the new (s000..s004 and s010..s014). Neither's start nor reload
// removes a source the other's config names; once the old instance has
// stopped, the new one's next sync removes what only the old had.
func TestRolloutKeepsSources(t *testing.T) {
	f := newFixture(t, 0)
	dbURL := pgtest.URL(t)
	dir := t.TempDir()
	oldPort, newPort := freePort(t), freePort(t)
	oldCfg := instanceConfig(t, dir, dbURL, f.srv.URL, 10, oldPort)
	newCfg := instanceConfig(t, dir, dbURL, f.srv.URL, 5, newPort)
	var extra strings.Builder
	for i := 10; i < 15; i++ {
		fmt.Fprintf(&extra, "\n[[source]]\nname = \"s%03d\"\nurl = \"%s/s%03d\"\ncategory = \"c0\"\n", i, f.srv.URL, i)
	}
	b, _ := os.ReadFile(newCfg)
	os.WriteFile(newCfg, append(b, extra.String()...), 0o644)

	old := startRefeed(t, "serve", "-c", oldCfg)
	waitHTTP(t, oldPort)
	c := &cluster{ports: []int{oldPort, newPort}, sources: 15}
	nw := startRefeed(t, "serve", "-c", newCfg)
	waitHTTP(t, newPort)
	c.waitAllOK(t, 1, 20*time.Second) // all 15: the old config's five extra ones are kept
	old.cmd.Process.Signal(syscall.SIGHUP)
	time.Sleep(time.Second)
	if h := c.health(t, 0); len(h) != 15 {
		t.Errorf("after the old instance's reload: %d sources, want 15", len(h))
	}
	old.cmd.Process.Signal(syscall.SIGTERM)
	old.wait(t, 20*time.Second)
	nw.cmd.Process.Signal(syscall.SIGHUP)
	deadline := time.Now().Add(10 * time.Second)
	for {
		h := c.health(t, 1)
		if len(h) == 10 && h["s009"] == "" && h["s014"] == "ok" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the old instance stopped and the new one reloaded: sources %v, want s000..s004 and s010..s014", h)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Without a reachable PostgreSQL: a password in [storage] url is refused by
// check and never printed; backup names pg_dump; a database that does not
// answer is one line and exit 2, never a stack trace. None needs a server.
func TestPostgresConfigErrors(t *testing.T) {
	_, withPassword := siteDir(t, 8080, "\n[storage]\nurl = \"postgres://refeed:hunter2@127.0.0.1:1/refeed\"\n")
	r := runRefeed(t, "check", "-c", withPassword)
	if r.code != exitUsage || !strings.Contains(r.stderr, "must not hold a password") || strings.Contains(r.stderr+r.stdout, "hunter2") {
		t.Errorf("check with a password in the URL: exit %d\n%s", r.code, r.stderr)
	}
	_, cfg := siteDir(t, 8080, "\n[storage]\nurl = \"postgres://refeed@127.0.0.1:1/refeed?connect_timeout=2\"\n")
	r = runRefeed(t, "backup", "-c", cfg, filepath.Join(t.TempDir(), "out.db"))
	if r.code != exitUsage || !strings.Contains(r.stderr, "pg_dump") || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Errorf("backup on PostgreSQL: exit %d, stderr %q; want 2 and one line naming pg_dump", r.code, r.stderr)
	}
	r = runRefeed(t, "poll", "-c", cfg)
	if r.code != exitUsage || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 || strings.Contains(r.stderr, "goroutine") {
		t.Errorf("poll with no database: exit %d, stderr %q; want 2 and one line", r.code, r.stderr)
	}
}

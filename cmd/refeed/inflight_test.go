package main

import (
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite" // to open backups the way any SQLite client would
)

// pace is how long the server of manySources takes to answer each feed:
// with concurrency 2, 100 sources take at least 100 × pace ÷ 2 to poll
// however fast the machine stores them, so the tests that act during a
// poll round always find one in flight.
const pace = 40 * time.Millisecond

// manySources writes n generated RSS feeds of items posts each under
// dir/many/, serves them over HTTP, each answer delayed by pace, and returns
// the config blocks that poll them, so that a poll round lasts a while.
func manySources(t *testing.T, dir string, n, items int) string {
	t.Helper()
	if err := os.Mkdir(filepath.Join(dir, "many"), 0o755); err != nil {
		t.Fatal(err)
	}
	files := http.FileServer(http.Dir(filepath.Join(dir, "many")))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(pace):
			files.ServeHTTP(w, r)
		case <-r.Context().Done(): // the poller gave up (SIGTERM)
		}
	}))
	t.Cleanup(srv.Close)
	body := strings.Repeat("<p>国家税务总局 留抵退税 政策解读 market news.</p>", 40)
	var cfg strings.Builder
	cfg.WriteString("\n[[category]]\nslug = \"many\"\ntitle = \"Many\"\n")
	for i := range n {
		var feed strings.Builder
		fmt.Fprintf(&feed, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>Feed %d</title><link>https://s%d.example.com/</link>\n", i, i)
		for j := range items {
			fmt.Fprintf(&feed, "<item><title>Post %d of feed %d</title><link>https://s%d.example.com/%d</link>"+
				"<pubDate>%s</pubDate><description><![CDATA[%s]]></description></item>\n",
				j, i, i, j, time.Date(2022, 5, 6, 0, 0, 0, 0, time.UTC).Add(-time.Duration(j)*time.Hour).Format(time.RFC1123Z), body)
		}
		feed.WriteString("</channel></rss>\n")
		name := fmt.Sprintf("s%03d", i)
		if err := os.WriteFile(filepath.Join(dir, "many", name+".xml"), []byte(feed.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&cfg, "\n[[source]]\nname = %q\nurl = \"%s/%s.xml\"\ncategory = \"many\"\n", name, srv.URL, name)
	}
	return cfg.String()
}

// checkDatabase opens path with the SQLite driver, checks its integrity and
// returns its number of posts.
func checkDatabase(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ok string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		t.Errorf("%s: integrity_check = %q, %v", path, ok, err)
	}
	var posts int
	if err := db.QueryRow(`SELECT count(*) FROM posts`).Scan(&posts); err != nil {
		t.Errorf("%s: count posts: %v", path, err)
	}
	return posts
}

// editConfig replaces old with new in the config file at path.
func editConfig(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s has no %q", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// bgProc is a refeed command running in the background.
type bgProc struct {
	cmd  *exec.Cmd
	done chan struct{}
	res  result
}

// startRefeed starts the binary in the background.
func startRefeed(t *testing.T, args ...string) *bgProc {
	t.Helper()
	p := &bgProc{cmd: exec.Command(binary, args...), done: make(chan struct{})}
	var stdout, stderr strings.Builder
	p.cmd.Stdout, p.cmd.Stderr = &stdout, &stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := p.cmd.Wait()
		if ee, ok := err.(*exec.ExitError); ok {
			p.res.code = ee.ExitCode()
		}
		p.res.stdout, p.res.stderr = stdout.String(), stderr.String()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

// running reports whether the process has not exited yet.
func (p *bgProc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// wait waits for the process to exit, at most d, and returns what it did.
func (p *bgProc) wait(t *testing.T, d time.Duration) result {
	t.Helper()
	select {
	case <-p.done:
		return p.res
	case <-time.After(d):
		t.Fatalf("%v still running after %v", p.cmd.Args, d)
		return result{}
	}
}

// Backups taken while a poll writes are consistent databases.
func TestBackupWhilePolling(t *testing.T) {
	const sources, items = 100, 30
	const total = 10 + sources*items // the samples' posts, and the generated ones
	dir, cfg := siteDir(t, 8080, "")
	writeConfig(t, cfg, 8080, manySources(t, dir, sources, items))
	editConfig(t, cfg, "[poll]\n", "[poll]\nconcurrency = 2\n")
	poll := startRefeed(t, "poll", "-c", cfg)
	var during []int
	for i := 0; poll.running(); i++ {
		out := filepath.Join(dir, fmt.Sprintf("backup-%d.db", i))
		r := runRefeed(t, "backup", "-c", cfg, out)
		if r.code != exitOK || !strings.Contains(r.stdout, "backup written to "+out) {
			t.Fatalf("backup %d: exit %d\n%s%s", i, r.code, r.stdout, r.stderr)
		}
		during = append(during, checkDatabase(t, out))
	}
	if r := poll.wait(t, time.Minute); r.code != exitOK {
		t.Fatalf("poll: exit %d\n%s", r.code, r.stderr)
	}
	t.Logf("posts in the backups taken during the poll: %v", during)
	mid := false
	for _, n := range during {
		mid = mid || (n > 0 && n < total)
	}
	if !mid {
		t.Errorf("no backup caught the poll half-way (posts %v); make the poll longer", during)
	}
	final := filepath.Join(dir, "final.db")
	if r := runRefeed(t, "backup", "-c", cfg, final); r.code != exitOK {
		t.Fatalf("final backup: %s", r.stderr)
	}
	if n := checkDatabase(t, final); n != total {
		t.Errorf("final backup has %d posts, want %d", n, total)
	}
}

// waitPolling waits until serve answers /healthz while some sources have not
// been polled yet: a poll round is in flight.
func waitPolling(t *testing.T, p *bgProc, base string) {
	t.Helper()
	s := &serveProc{base: base}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) && p.running() {
		body, code := s.get(t, "/healthz")
		if code == 200 && strings.Contains(body, `"status": "new"`) && strings.Contains(body, `"status": "ok"`) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("serve never showed a poll round in flight")
}

// SIGTERM in the middle of a poll round stops serve within its bound, and
// leaves a sound database.
func TestServeSIGTERMWhilePolling(t *testing.T) {
	port := freePort(t)
	dir, cfg := siteDir(t, port, "")
	writeConfig(t, cfg, port, manySources(t, dir, 100, 30))
	editConfig(t, cfg, "[poll]\n", "[poll]\nconcurrency = 2\n")
	p := startRefeed(t, "serve", "-c", cfg)
	waitPolling(t, p, fmt.Sprintf("http://127.0.0.1:%d", port))
	start := time.Now()
	p.cmd.Process.Signal(syscall.SIGTERM)
	r := p.wait(t, shutdownTimeout+5*time.Second)
	took := time.Since(start)
	t.Logf("stopped %v after SIGTERM", took)
	if r.code != exitOK || !strings.Contains(r.stderr, "shutting down") || !strings.Contains(r.stderr, "stopped") {
		t.Errorf("serve after SIGTERM: exit %d\n%s", r.code, r.stderr)
	}
	if took > shutdownTimeout {
		t.Errorf("shutdown took %v, bound %v", took, shutdownTimeout)
	}
	if n := checkDatabase(t, filepath.Join(dir, "refeed.db")); n == 0 || n >= 10+100*30 {
		t.Errorf("database after SIGTERM has %d posts; want some but not all", n)
	}
}

// SIGTERM stops `refeed poll` half-way with exit 1; what was stored stays,
// and the next poll picks up the rest.
func TestPollSIGTERM(t *testing.T) {
	const total = 10 + 100*30
	dir, cfg := siteDir(t, 8080, "")
	writeConfig(t, cfg, 8080, manySources(t, dir, 100, 30))
	editConfig(t, cfg, "[poll]\n", "[poll]\nconcurrency = 2\n")
	db := filepath.Join(dir, "refeed.db")
	p := startRefeed(t, "poll", "-c", cfg)
	deadline := time.Now().Add(20 * time.Second)
	for p.running() && time.Now().Before(deadline) {
		if fi, err := os.Stat(db + "-wal"); err == nil && fi.Size() > 1<<20 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !p.running() {
		t.Fatal("poll finished before it could be interrupted; make it longer")
	}
	start := time.Now()
	p.cmd.Process.Signal(syscall.SIGTERM)
	r := p.wait(t, shutdownTimeout)
	t.Logf("poll stopped %v after SIGTERM", time.Since(start))
	if r.code != exitPartial || !strings.Contains(r.stderr, "poll interrupted") || !strings.Contains(r.stdout, "sources polled in") {
		t.Errorf("poll after SIGTERM: exit %d, want 1, a summary and a warning\n%s%s", r.code, r.stdout, r.stderr)
	}
	n := checkDatabase(t, db)
	if n == 0 || n >= total {
		t.Errorf("database after SIGTERM has %d posts; want some but not all", n)
	}
	r = runRefeed(t, "poll", "-c", cfg)
	if r.code != exitOK || !strings.Contains(r.stdout, fmt.Sprintf("%d new", total-n)) {
		t.Errorf("poll after an interrupted one: exit %d, want %d new\n%s%s", r.code, total-n, r.stdout, r.stderr)
	}
}

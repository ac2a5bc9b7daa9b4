package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// `refeed poll` run beside a polling `refeed serve` on one database fetches
// no source that serve is fetching, and neither fetches one twice: each of
// the sources is fetched exactly once between them.
func TestPollBesideServeFetchesEachSourceOnce(t *testing.T) {
	const sources = 60
	var mu sync.Mutex
	hits := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		mu.Unlock()
		time.Sleep(20 * time.Millisecond) // long enough that the two overlap
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>%s</title><link>https://example.com/</link>`+
			`<item><title>Post of %s</title><link>https://example.com%s</link><guid>%s</guid></item></channel></rss>`,
			r.URL.Path, r.URL.Path, r.URL.Path, r.URL.Path)
	}))
	defer srv.Close()
	port := freePort(t)
	_, cfg := siteDir(t, port, "")
	var extra strings.Builder
	extra.WriteString("\n[[category]]\nslug = \"many\"\n")
	for i := range sources {
		fmt.Fprintf(&extra, "\n[[source]]\nname = \"h%02d\"\nurl = \"%s/h%02d\"\ncategory = \"many\"\n", i, srv.URL, i)
	}
	writeConfig(t, cfg, port, extra.String())
	editConfig(t, cfg, "[poll]\n", "[poll]\nper_host = 4\nconcurrency = 4\n")

	serve := startRefeed(t, "serve", "-c", cfg)
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(hits)
		mu.Unlock()
		if n > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	poll := runRefeed(t, "poll", "-c", cfg)
	if poll.code != exitOK {
		t.Fatalf("poll: exit %d\n%s%s", poll.code, poll.stdout, poll.stderr)
	}
	for {
		mu.Lock()
		n := len(hits)
		mu.Unlock()
		if n == sources || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // a second fetch would come now
	serve.cmd.Process.Signal(syscall.SIGTERM)
	if r := serve.wait(t, 20*time.Second); r.code != exitOK {
		t.Fatalf("serve: exit %d\n%s", r.code, r.stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	var again []string
	for path, n := range hits {
		if n != 1 {
			again = append(again, fmt.Sprintf("%s×%d", path, n))
		}
	}
	if len(hits) != sources || len(again) > 0 {
		t.Errorf("%d of %d sources fetched; more than once: %v", len(hits), sources, again)
	}
	byPoll := strings.Count(poll.stdout, " ok ")
	t.Logf("refeed poll polled %d of the %d sources, serve the rest", byPoll, sources)
	if byPoll == 0 {
		t.Log("the two did not overlap this time: serve had claimed every source before poll started")
	}
}

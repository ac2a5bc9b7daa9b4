package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/refeed/refeed/config"
)

// Every command's -h exits 0 and shows its synopsis, flags and an example.
func TestHelp(t *testing.T) {
	for _, c := range commands() {
		args := [][]string{{c.name, "-h"}}
		if c.name == "export" {
			args = append(args, []string{"export", "jekyll", "-h"})
		}
		for _, a := range args {
			r := runRefeed(t, a...)
			out := r.stdout + r.stderr
			if r.code != exitOK {
				t.Errorf("refeed %s: exit %d\n%s", strings.Join(a, " "), r.code, out)
			}
			for _, want := range []string{"usage: refeed " + c.name, "-log-format", "example:\n  refeed " + c.name} {
				if !strings.Contains(out, want) {
					t.Errorf("refeed %s: output lacks %q:\n%s", strings.Join(a, " "), want, out)
				}
			}
		}
	}
}

func TestLogFlags(t *testing.T) {
	_, cfg := siteDir(t, 8080, "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"check", "-c", cfg, "-log-level", "loud"}, `-log-level "loud": use debug, info, warn or error`},
		{[]string{"poll", "-c", cfg, "-log-format", "xml"}, `-log-format "xml": use text or json`},
		{[]string{"version", "-log-level", "bogus"}, `-log-level "bogus"`},
	} {
		r := runRefeed(t, tc.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("refeed %v: exit %d, stderr %q; want 2 and %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

// -log-format json writes one JSON object per line; the summary on stdout
// lists failures first, each group by name.
func TestPollJSONLogsAndSummaryOrder(t *testing.T) {
	broken := func(name string) string {
		return "\n[[source]]\nname = \"" + name + "\"\nurl = \"file://samples/" + name + ".xml\"\ncategory = \"markets\"\n"
	}
	_, cfg := siteDir(t, 8080, broken("zz-missing")+broken("aa-missing"))
	r := runRefeed(t, "poll", "-c", cfg, "-log-format", "json", "-log-level", "debug")
	if r.code != exitPartial {
		t.Fatalf("poll: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	failures := 0
	for _, line := range lines {
		var rec struct {
			Time, Level, Msg, Source string
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Time == "" || rec.Level == "" || rec.Msg == "" {
			t.Errorf("not a JSON log record (%v): %s", err, line)
		}
		if rec.Level == "WARN" && strings.HasSuffix(rec.Source, "-missing") {
			failures++
		}
	}
	if failures != 2 {
		t.Errorf("%d failure records, want 2:\n%s", failures, r.stderr)
	}

	var order []string
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n")[1:] {
		if f := strings.Fields(line); len(f) > 1 && f[1] != "sources" {
			order = append(order, f[0]+" "+f[1])
		}
	}
	want := []string{"aa-missing error", "zz-missing error", "chinatax ok", "markets ok", "shuiwu-policy ok"}
	if strings.Join(order, ", ") != strings.Join(want, ", ") {
		t.Errorf("summary order %q, want %q\n%s", order, want, r.stdout)
	}
	if !strings.Contains(r.stdout, "5 sources polled in ") || !strings.Contains(r.stdout, ": 10 new, 0 updated, 2 failed") {
		t.Errorf("summary total line:\n%s", r.stdout)
	}
}

// On a terminal poll draws a progress bar on stderr and clears it before the
// summary; without one (the other tests) stderr has only log lines.
func TestPollProgressOnTerminal(t *testing.T) {
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script (util-linux) not installed: no pty to test on")
	}
	dir, cfg := siteDir(t, 8080, "")
	cmd := exec.Command(script, "-qec", shellQuote(binary)+" poll -force -c "+shellQuote(cfg), filepath.Join(dir, "typescript"))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("script: %v\n%s", err, out)
	}
	tty := string(out)
	bar := strings.Index(tty, "polling")
	summary := strings.Index(tty, "SOURCE")
	if bar < 0 || summary < bar || !strings.Contains(tty, "/3)") {
		t.Fatalf("no progress bar before the summary:\n%q", tty)
	}
	// The bar's last drawing is wiped with spaces before the summary.
	if tail := tty[bar:summary]; !strings.HasSuffix(tail, strings.Repeat(" ", 20)+"\r") {
		t.Errorf("bar not cleared before the summary:\n%q", tail)
	}
	if !strings.Contains(tty, "3 sources polled") {
		t.Errorf("summary missing:\n%q", tty)
	}

	r := runRefeed(t, "poll", "-force", "-c", cfg)
	if r.code != exitOK || r.stderr != "" || !strings.HasPrefix(r.stdout, "SOURCE") {
		t.Errorf("poll without a terminal: exit %d, stderr %q, stdout %q", r.code, r.stderr, r.stdout)
	}
}

// shellQuote quotes s for sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// serve -poll=false only serves; posts stored by `refeed poll` from cron
// show up in its feeds without a reload.
func TestServeWithoutPoller(t *testing.T) {
	port := freePort(t)
	_, cfg := siteDir(t, port, "")
	p := startRefeed(t, "serve", "-poll=false", "-c", cfg)
	s := &serveProc{base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, code := s.get(t, "/healthz"); code == 200 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // a poller, if any, would have polled by now
	if titles, _ := feedItems(t, s, "/feed.json"); len(titles) != 0 {
		t.Fatalf("serve -poll=false polled: %q", titles)
	}
	if r := runRefeed(t, "poll", "-c", cfg); r.code != exitOK {
		t.Fatalf("poll: exit %d\n%s", r.code, r.stderr)
	}
	waitItems(t, s, "/feed.json", 10)
	p.cmd.Process.Signal(syscall.SIGTERM)
	if r := p.wait(t, shutdownTimeout); r.code != exitOK {
		t.Errorf("serve: exit %d\n%s", r.code, r.stderr)
	}
}

func TestRestartKeys(t *testing.T) {
	base := func() *config.Config {
		c := &config.Config{}
		c.Server.Listen, c.Storage.Path = "127.0.0.1:8080", "/var/lib/refeed/refeed.db"
		c.Poll.Concurrency, c.Poll.PerHost, c.Poll.Timeout, c.Poll.MaxBody = 8, 2, 30*time.Second, 10<<20
		return c
	}
	for _, tc := range []struct {
		name string
		edit func(*config.Config)
		want string
	}{
		{"nothing", func(*config.Config) {}, ""},
		{"applied by reload", func(c *config.Config) { c.Title, c.Poll.Interval, c.Storage.Keep = "x", time.Minute, time.Hour }, ""},
		{"listen", func(c *config.Config) { c.Server.Listen = ":9090" }, "server.listen"},
		{"database and poller", func(c *config.Config) { c.Storage.Path, c.Poll.Timeout, c.Poll.UserAgent = "x.db", time.Second, "bot" },
			"storage.path poll.timeout poll.user_agent"},
	} {
		next := base()
		tc.edit(next)
		if got := strings.Join(restartKeys(base(), next), " "); got != tc.want {
			t.Errorf("%s: restartKeys = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// import-opml -c leaves out what the config has (categories by slug or
// title, sources by URL), and what it prints appends to that config.
func TestImportOPMLIntoConfig(t *testing.T) {
	dir, cfg := siteDir(t, 8080, "")
	opmlFile := filepath.Join(dir, "subs.opml")
	os.WriteFile(opmlFile, []byte(`<?xml version="1.0"?><opml version="2.0"><head><title>s</title></head><body>
<outline text="Markets">
  <outline type="rss" text="Markets again" xmlUrl="file://`+filepath.Join(dir, "samples", "markets.json")+`"/>
  <outline type="rss" text="FX Daily" xmlUrl="https://fx.example.com/feed.xml"/>
</outline>
<outline text="中国税务报新闻">
  <outline type="rss" text="Local tax" xmlUrl="https://tax.example.cn/rss"/>
</outline>
<outline text="Brand new">
  <outline type="rss" text="New one" xmlUrl="https://new.example.org/atom"/>
</outline>
</body></opml>`), 0o644)
	r := runRefeed(t, "import-opml", "-c", cfg, opmlFile)
	if r.code != exitOK {
		t.Fatalf("import-opml -c: exit %d\n%s", r.code, r.stderr)
	}
	out := r.stdout
	for _, want := range []string{`url = "https://fx.example.com/feed.xml"` + "\ncategory = \"markets\"",
		`url = "https://tax.example.cn/rss"` + "\ncategory = \"zhongguoshuiwubao\"", `slug = "brand-new"`, "1 feeds left out"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "[[category]]"); n != 1 || strings.Contains(out, "markets.json") {
		t.Errorf("%d categories (want only the new one), or the existing source again:\n%s", n, out)
	}
	text, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, append(text, out...), 0o644)
	if r := runRefeed(t, "check", "-c", cfg); r.code != exitOK {
		t.Errorf("config with the import appended does not check: %s", r.stderr)
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the refeed binary built once for the end-to-end tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "refeed-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "refeed")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build refeed: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one run of the binary did.
type result struct {
	code           int
	stdout, stderr string
}

func runRefeed(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, stdout.String(), stderr.String()}
}

// siteDir makes a temp dir with the sample feeds and a config using them;
// extra is appended to the config.
func siteDir(t *testing.T, port int, extra string) (dir, cfg string) {
	t.Helper()
	dir = t.TempDir()
	samples := filepath.Join("..", "..", "samples")
	entries, err := os.ReadDir(samples)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "samples"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(samples, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "samples", e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg = filepath.Join(dir, "config.toml")
	writeConfig(t, cfg, port, extra)
	return dir, cfg
}

func writeConfig(t *testing.T, path string, port int, extra string) {
	t.Helper()
	text := fmt.Sprintf(`title = "finews"
base_url = "http://127.0.0.1:%d"
timezone = "Asia/Shanghai"
language = "zh-CN"

[server]
listen = "127.0.0.1:%d"

[poll]
interval = "1h"
timeout = "5s"

[[category]]
slug = "zhongguoshuiwubao"
title = "中国税务报新闻"

[[category]]
slug = "markets"
title = "Markets"

[[source]]
name = "chinatax"
url = "file://samples/chinatax-gbk.xml"
category = "zhongguoshuiwubao"

[[source]]
name = "shuiwu-policy"
url = "file://samples/shuiwu-policy.atom"
category = "zhongguoshuiwubao"
tags = ["中国税务报新闻", "政策解读"]

[[source]]
name = "markets"
url = "file://samples/markets.json"
category = "markets"
%s`, port, port, extra)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestCheck(t *testing.T) {
	_, cfg := siteDir(t, 8080, "")
	r := runRefeed(t, "check", "-c", cfg)
	if r.code != exitOK || !strings.Contains(r.stdout, "3 sources") {
		t.Errorf("good config: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	_, bad := siteDir(t, 8080, "\n[[source]]\nname = \"x\"\nurl = \"https://x.org/\"\ncategory = \"tax\"\n")
	r = runRefeed(t, "check", "-c", bad)
	want := bad + `:40: source "x": category "tax" is not defined`
	if r.code != exitUsage || !strings.Contains(r.stderr, want) {
		t.Errorf("bad config: exit %d, stderr %q; want 2 and %q", r.code, r.stderr, want)
	}
	r = runRefeed(t, "check", "-c", filepath.Join(t.TempDir(), "missing.toml"))
	if r.code != exitUsage {
		t.Errorf("missing config: exit %d", r.code)
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{[]string{"help"}, exitOK, "commands:"},
		{[]string{"poll", "-h"}, exitOK, "example:"},
		{[]string{"poll", "-nope"}, exitUsage, "flag provided but not defined"},
		{[]string{"export"}, exitUsage, "refeed export jekyll"},
		{[]string{"version"}, exitOK, "refeed "},
		{[]string{"backup"}, exitUsage, "refeed backup OUT"},
	}
	for _, tc := range tests {
		r := runRefeed(t, tc.args...)
		if r.code != tc.code || !strings.Contains(r.stdout+r.stderr, tc.out) {
			t.Errorf("refeed %v: exit %d, output %q; want %d and %q", tc.args, r.code, r.stdout+r.stderr, tc.code, tc.out)
		}
	}
}

func TestPollExportBackup(t *testing.T) {
	dir, cfg := siteDir(t, 8080, "\n[[source]]\nname = \"broken\"\nurl = \"file://samples/missing.xml\"\ncategory = \"markets\"\n")
	r := runRefeed(t, "poll", "-c", cfg)
	if r.code != exitPartial {
		t.Fatalf("poll with one failing source: exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) < 6 || !strings.HasPrefix(lines[1], "broken") || !strings.Contains(lines[1], "error") {
		t.Errorf("summary should list the failure first:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "chinatax") || !strings.Contains(r.stdout, "4 sources polled") {
		t.Errorf("summary:\n%s", r.stdout)
	}
	r = runRefeed(t, "poll", "-c", cfg, "-source", "chinatax")
	if r.code != exitOK {
		t.Errorf("poll -source chinatax: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runRefeed(t, "poll", "-c", cfg, "-source", "nope")
	if r.code != exitUsage {
		t.Errorf("poll -source nope: exit %d", r.code)
	}

	out := filepath.Join(dir, "site")
	r = runRefeed(t, "export", "jekyll", "-c", cfg, "-out", out)
	if r.code != exitOK {
		t.Fatalf("export: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	posts, _ := filepath.Glob(filepath.Join(out, "_posts", "*.md"))
	if len(posts) != 10 {
		t.Errorf("exported %d posts, want 10", len(posts))
	}
	first, _ := os.Stat(posts[0])
	time.Sleep(20 * time.Millisecond)
	r = runRefeed(t, "export", "jekyll", "-c", cfg, "-out", out)
	if !strings.Contains(r.stdout, "0 written") {
		t.Errorf("second export rewrote files: %s", r.stdout)
	}
	again, _ := os.Stat(posts[0])
	if !again.ModTime().Equal(first.ModTime()) {
		t.Error("unchanged post file was rewritten")
	}
	r = runRefeed(t, "export", "jekyll", "-c", cfg, "-out", out, "-category", "markets")
	if !strings.Contains(r.stdout, "exported 3 posts") || !strings.Contains(r.stdout, "7 removed") {
		t.Errorf("export -category markets: %s", r.stdout)
	}
	r = runRefeed(t, "export", "jekyll", "-c", cfg, "-out", out, "-since", "2022-05-06")
	if r.code != exitOK || !strings.Contains(r.stdout, "exported 4 posts") {
		t.Errorf("export -since: %s%s", r.stdout, r.stderr)
	}

	backup := filepath.Join(dir, "backup.db")
	r = runRefeed(t, "backup", "-c", cfg, backup)
	if r.code != exitOK {
		t.Fatalf("backup: exit %d %s", r.code, r.stderr)
	}
	bcfg := filepath.Join(dir, "backup.toml")
	text, _ := os.ReadFile(cfg)
	os.WriteFile(bcfg, []byte(strings.Replace(string(text), "[poll]", "[storage]\npath = \"backup.db\"\n\n[poll]", 1)), 0o644)
	r = runRefeed(t, "stats", "-c", bcfg)
	if r.code != exitOK || !strings.Contains(r.stdout, "posts     10") || !strings.Contains(r.stdout, "中国税务报新闻") {
		t.Errorf("stats on the backup: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runRefeed(t, "backup", "-c", cfg, backup)
	if r.code != exitUsage {
		t.Errorf("backup over an existing file: exit %d", r.code)
	}

	r = runRefeed(t, "opml", "-c", cfg)
	if r.code != exitOK || !strings.Contains(r.stdout, `<outline text="中国税务报新闻"`) {
		t.Errorf("opml: %s%s", r.stdout, r.stderr)
	}
	opmlFile := filepath.Join(dir, "subs.opml")
	os.WriteFile(opmlFile, []byte(r.stdout), 0o644)
	r = runRefeed(t, "import-opml", opmlFile)
	if r.code != exitOK || strings.Count(r.stdout, "[[source]]") != 4 {
		t.Fatalf("import-opml: %s%s", r.stdout, r.stderr)
	}
	// What import prints is valid config.
	imported := filepath.Join(dir, "imported.toml")
	writeConfig(t, imported, 8080, "")
	text, _ = os.ReadFile(imported)
	os.WriteFile(imported, append(text[:bytes.Index(text, []byte("[[category]]"))], r.stdout...), 0o644)
	if r := runRefeed(t, "check", "-c", imported); r.code != exitOK {
		t.Errorf("imported config does not check: %s", r.stderr)
	}
}

// serveProc is a running `refeed serve`.
type serveProc struct {
	cmd  *exec.Cmd
	base string
	mu   sync.Mutex
	log  bytes.Buffer
}

func (s *serveProc) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.Write(p)
}

func (s *serveProc) logText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

func startServe(t *testing.T, cfg string, port int) *serveProc {
	t.Helper()
	s := &serveProc{base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	s.cmd = exec.Command(binary, "serve", "-c", cfg)
	s.cmd.Stdout, s.cmd.Stderr = s, s
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.cmd.Process.Kill()
		s.cmd.Wait()
	})
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if body, code := s.get(t, "/healthz"); code == 200 && !strings.Contains(body, `"status": "new"`) {
			return s
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("serve did not become ready:\n%s", s.logText())
	return nil
}

func (s *serveProc) get(t *testing.T, path string) (string, int) {
	t.Helper()
	resp, err := http.Get(s.base + path)
	if err != nil {
		return "", 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b), resp.StatusCode
}

func TestServe(t *testing.T) {
	port := freePort(t)
	_, cfg := siteDir(t, port, "")
	s := startServe(t, cfg, port)
	for _, tc := range []struct {
		path, want string
	}{
		{"/", "中国税务报新闻"},
		{"/category/zhongguoshuiwubao.html", "留抵退税"},
		{"/category/zhongguoshuiwubao.atom", "国家税务总局"},
		{"/tag/%E6%94%BF%E7%AD%96%E8%A7%A3%E8%AF%BB.rss", "答记者问"},
		{"/source/markets.json", "VAT credit refunds"},
		{"/feed.rss", "<rss"},
	} {
		body, code := s.get(t, tc.path)
		if code != 200 || !strings.Contains(body, tc.want) {
			t.Errorf("GET %s: %d, want 200 with %q", tc.path, code, tc.want)
		}
	}
	if _, code := s.get(t, "/category/nope.atom"); code != 404 {
		t.Errorf("unknown category: %d", code)
	}

	// SIGHUP applies a new source…
	text, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, append(text, "\n[[source]]\nname = \"caijing\"\nurl = \"file://samples/caijing.xml\"\ncategory = \"markets\"\n"...), 0o644)
	s.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, s, "/source/caijing.html", "A股三大指数")
	// …and refuses a broken config, keeping the running one.
	os.WriteFile(cfg, append(text, "\nintervall = 3\n"...), 0o644)
	s.cmd.Process.Signal(syscall.SIGHUP)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(s.logText(), "reload refused") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(s.logText(), `unknown key \"intervall\"`) {
		t.Errorf("broken config not reported:\n%s", s.logText())
	}
	if _, code := s.get(t, "/source/caijing.html"); code != 200 {
		t.Errorf("after a refused reload: %d", code)
	}

	var h struct {
		OK      bool `json:"ok"`
		Sources []struct {
			Name   string `json:"name"`
			Status string `json:"status"`
		} `json:"sources"`
	}
	body, _ := s.get(t, "/healthz")
	if err := json.Unmarshal([]byte(body), &h); err != nil || !h.OK || len(h.Sources) != 4 {
		t.Errorf("healthz: %v %s", err, body)
	}

	// SIGTERM stops it promptly with exit 0.
	start := time.Now()
	s.cmd.Process.Signal(syscall.SIGTERM)
	err := s.cmd.Wait()
	if err != nil {
		t.Errorf("serve exit after SIGTERM: %v\n%s", err, s.logText())
	}
	if took := time.Since(start); took > shutdownTimeout {
		t.Errorf("shutdown took %v", took)
	}
}

func waitFor(t *testing.T, s *serveProc, path, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if body, code := s.get(t, path); code == 200 && strings.Contains(body, want) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("GET %s never showed %q:\n%s", path, want, s.logText())
}

package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// site is a refeed process serving the shipped config's sample feeds.
type site struct {
	base    string          // "http://127.0.0.1:PORT", no trailing slash
	checked map[string]bool // URLs checkTargets fetched already
	log     *lockedBuffer
}

// url returns the absolute URL of a path on the site.
func (s *site) url(path string) string { return s.base + path }

// lockedBuffer is a bytes.Buffer safe for the writes of a child process and
// the reads of the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startRefeed builds refeed, writes a copy of ../config.toml that listens on
// a free port with a fresh database next to copies of ../samples, starts
// `refeed serve` and waits until every source has been polled once. The
// process is stopped with SIGINT when the test ends.
func startRefeed(t *testing.T) *site {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "refeed")
	build := exec.Command("go", "build", "-o", bin, "../cmd/refeed")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ../cmd/refeed: %v\n%s", err, out)
	}
	if err := os.CopyFS(filepath.Join(dir, "samples"), os.DirFS("../samples")); err != nil {
		t.Fatalf("copy samples: %v", err)
	}
	addr := freeAddr(t)
	s := &site{base: "http://" + addr, log: &lockedBuffer{}, checked: map[string]bool{}}
	shipped, err := os.ReadFile("../config.toml")
	if err != nil {
		t.Fatalf("read shipped config: %v", err)
	}
	cfg, err := moveConfig(string(shipped), s.base, addr)
	if err != nil {
		t.Fatalf("config.toml: %v", err)
	}
	cfgPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(bin, "serve", "-c", cfgPath)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start refeed: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			t.Errorf("refeed did not stop within 10s of SIGINT")
		}
		if t.Failed() {
			t.Logf("refeed log:\n%s", s.log.String())
		}
	})
	if err := waitPolled(s.base, exited, 20*time.Second); err != nil {
		t.Fatalf("refeed serve: %v\nlog:\n%s", err, s.log.String())
	}
	return s
}

// moveConfig points the shipped config at base_url and listen addr. The
// database path stays relative to the config file, so it lands in the temp
// directory with the samples.
func moveConfig(cfg, base, addr string) (string, error) {
	var found [2]bool
	lines := strings.Split(cfg, "\n")
	for i, l := range lines {
		key, _, _ := strings.Cut(l, "=")
		switch strings.TrimSpace(key) {
		case "base_url":
			lines[i], found[0] = fmt.Sprintf("base_url = %q", base), true
		case "listen":
			lines[i], found[1] = fmt.Sprintf("listen = %q", addr), true
		}
	}
	if !found[0] || !found[1] {
		return "", errors.New("no base_url or listen line to rewrite")
	}
	return strings.Join(lines, "\n"), nil
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitPolled polls /healthz until every source has a status other than
// "new", then requires every status to be ok: the samples are local files.
func waitPolled(base string, exited <-chan error, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	var last string
	for {
		h, body, err := health(ctx, base)
		last = fmt.Sprintf("%v %s", err, body)
		if err == nil && len(h.Sources) > 0 && h.allPolled() {
			for _, src := range h.Sources {
				if src.Status != "ok" {
					return fmt.Errorf("source %s: status %q, error %q", src.Name, src.Status, src.Error)
				}
			}
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("exited before serving: %v", err)
		case <-ctx.Done():
			return fmt.Errorf("sources not polled within %v; last /healthz: %s", limit, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// healthz is the part of /healthz the test reads.
type healthz struct {
	OK      bool `json:"ok"`
	Sources []struct {
		Name   string `json:"name"`
		Status string `json:"status"`
		Error  string `json:"error"`
	} `json:"sources"`
}

func (h healthz) allPolled() bool {
	for _, src := range h.Sources {
		if src.Status == "" || src.Status == "new" {
			return false
		}
	}
	return true
}

func health(ctx context.Context, base string) (healthz, []byte, error) {
	var h healthz
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz", nil)
	if err != nil {
		return h, nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return h, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return h, nil, fmt.Errorf("read /healthz: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return h, body, fmt.Errorf("/healthz: %s", resp.Status)
	}
	if err := json.Unmarshal(body, &h); err != nil {
		return h, body, fmt.Errorf("decode /healthz: %w", err)
	}
	return h, body, nil
}

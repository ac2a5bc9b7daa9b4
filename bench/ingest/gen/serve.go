package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// file is one feed held in memory with its validators.
type file struct {
	body         []byte
	etag         string
	lastModified time.Time
	contentType  string
}

// counters are what the server saw since the last reset.
type counters struct {
	Requests    atomic.Int64 // feed requests (not /stats)
	Conditional atomic.Int64 // with If-None-Match or If-Modified-Since
	NotModified atomic.Int64 // answered 304
	OK          atomic.Int64 // answered 200
	Bytes       atomic.Int64 // body bytes sent
}

// Stats is the JSON of /stats.
type Stats struct {
	Requests    int64 `json:"requests"`
	Conditional int64 `json:"conditional"`
	NotModified int64 `json:"not_modified"`
	OK          int64 `json:"ok"`
	Bytes       int64 `json:"bytes"`
}

func (c *counters) snapshot(reset bool) Stats {
	get := func(v *atomic.Int64) int64 {
		if reset {
			return v.Swap(0)
		}
		return v.Load()
	}
	return Stats{Requests: get(&c.Requests), Conditional: get(&c.Conditional), NotModified: get(&c.NotModified), OK: get(&c.OK), Bytes: get(&c.Bytes)}
}

// feedServer serves a corpus from memory: /feeds/NAME.ext with ETag and
// Last-Modified, answering conditional requests with 304, and /stats.
type feedServer struct {
	files map[string]file // by URL path
	c     counters
}

// loadCorpus reads dir/manifest.tsv and the files it lists.
func loadCorpus(dir string) (*feedServer, error) {
	m, err := os.Open(filepath.Join(dir, "manifest.tsv"))
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	defer m.Close()
	s := &feedServer{files: map[string]file{}}
	lm := corpusEpoch.UTC().Truncate(time.Second)
	sc := bufio.NewScanner(m)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) < 3 {
			continue
		}
		body, err := os.ReadFile(filepath.Join(dir, fields[1]))
		if err != nil {
			return nil, fmt.Errorf("serve: %w", err)
		}
		sum := sha256.Sum256(body)
		ct := "application/rss+xml; charset=utf-8"
		switch fields[2] {
		case formatAtom:
			ct = "application/atom+xml; charset=utf-8"
		case formatJSON:
			ct = "application/feed+json; charset=utf-8"
		}
		s.files["/"+fields[1]] = file{body: body, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, lastModified: lm, contentType: ct}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	return s, nil
}

func (s *feedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/stats" {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s.c.snapshot(r.URL.Query().Has("reset")))
		return
	}
	s.c.Requests.Add(1)
	f, ok := s.files[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	inm, ims := r.Header.Get("If-None-Match"), r.Header.Get("If-Modified-Since")
	if inm != "" || ims != "" {
		s.c.Conditional.Add(1)
	}
	h := w.Header()
	h.Set("ETag", f.etag)
	h.Set("Last-Modified", f.lastModified.Format(http.TimeFormat))
	if notModified(f, inm, ims) {
		s.c.NotModified.Add(1)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	s.c.OK.Add(1)
	h.Set("Content-Type", f.contentType)
	h.Set("Content-Length", fmt.Sprint(len(f.body)))
	n, _ := w.Write(f.body)
	s.c.Bytes.Add(int64(n))
}

// notModified applies RFC 9110: If-None-Match wins; If-Modified-Since is
// looked at only without it.
func notModified(f file, inm, ims string) bool {
	if inm != "" {
		for _, tag := range strings.Split(inm, ",") {
			tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
			if tag == f.etag || tag == "*" {
				return true
			}
		}
		return false
	}
	if ims != "" {
		t, err := http.ParseTime(ims)
		return err == nil && !f.lastModified.After(t)
	}
	return false
}

// serve listens on addr, writes the address it got to addrFile, and serves
// until ctx is done; then it prints the counters to stderr.
func serve(ctx context.Context, dir, addr, addrFile string) error {
	s, err := loadCorpus(dir)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	if addrFile != "" {
		tmp := addrFile + ".tmp"
		if err := os.WriteFile(tmp, []byte(ln.Addr().String()+"\n"), 0o644); err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		if err := os.Rename(tmp, addrFile); err != nil {
			return fmt.Errorf("serve: %w", err)
		}
	}
	fmt.Fprintf(os.Stderr, "gen: serving %d feeds on http://%s/\n", len(s.files), ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil {
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	st := s.c.snapshot(false)
	fmt.Fprintf(os.Stderr, "gen: since last reset: %d requests, %d conditional, %d answered 304, %d answered 200, %d body bytes\n",
		st.Requests, st.Conditional, st.NotModified, st.OK, st.Bytes)
	return nil
}

// fetchStats prints the server's /stats (and resets the counters if asked).
func fetchStats(ctx context.Context, addr string, reset bool, w io.Writer) error {
	u := "http://" + addr + "/stats"
	if reset {
		u += "?reset=1"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("stats: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("stats: %w", err)
	}
	defer resp.Body.Close()
	var st Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return fmt.Errorf("stats: %w", err)
	}
	_, err = fmt.Fprintf(w, "requests=%d conditional=%d not_modified=%d ok=%d bytes=%d\n",
		st.Requests, st.Conditional, st.NotModified, st.OK, st.Bytes)
	return err
}

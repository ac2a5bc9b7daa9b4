package server

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestEntityLazyGzip: the gzip form is made on the first request that
// accepts gzip, once however many ask at the same time, and identity
// requests never make it.
func TestEntityLazyGzip(t *testing.T) {
	body := []byte(strings.Repeat("<item>refeed 聚合</item>\n", 200))
	for _, tc := range []struct {
		name       string
		body       []byte
		accept     string
		wantGzip   bool
		wantVary   bool
		wantZipped bool // gzip form made after the request
	}{
		{"identity leaves it uncompressed", body, "", false, true, false},
		{"gzip compresses", body, "gzip", true, true, true},
		{"gzip;q=0 leaves it uncompressed", body, "gzip;q=0", false, true, false},
		{"small body is never compressed", []byte("<x/>"), "gzip", false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := makeEntity(&gzipPool{}, tc.body, ctypeHTML, time.Unix(1700000000, 0), 60)
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			if tc.accept != "" {
				req.Header.Set("Accept-Encoding", tc.accept)
			}
			rec := httptest.NewRecorder()
			e.write(rec, req)
			if got := rec.Header().Get("Content-Encoding") == "gzip"; got != tc.wantGzip {
				t.Errorf("gzip %v, want %v", got, tc.wantGzip)
			}
			if got := rec.Header().Get("Vary") != ""; got != tc.wantVary {
				t.Errorf("Vary %v, want %v", got, tc.wantVary)
			}
			if got := e.gz != nil; got != tc.wantZipped {
				t.Errorf("gzip form made %v, want %v", got, tc.wantZipped)
			}
			got := rec.Body.Bytes()
			if tc.wantGzip {
				zr, err := gzip.NewReader(rec.Body)
				if err != nil {
					t.Fatal(err)
				}
				if got, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(got, tc.body) {
				t.Error("body differs")
			}
		})
	}
}

// TestEntityGzipConcurrent: concurrent gzip requests share one gzip form.
func TestEntityGzipConcurrent(t *testing.T) {
	body := []byte(strings.Repeat("<entry>refeed</entry>\n", 500))
	e := makeEntity(&gzipPool{}, body, ctypeHTML, time.Time{}, 60)
	var wg sync.WaitGroup
	bodies := make([][]byte, 20)
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set("Accept-Encoding", "gzip")
			rec := httptest.NewRecorder()
			e.write(rec, req)
			bodies[i] = rec.Body.Bytes()
		}()
	}
	wg.Wait()
	for i, b := range bodies {
		if !bytes.Equal(b, e.gz) {
			t.Fatalf("response %d is not the entity's gzip form", i)
		}
	}
}

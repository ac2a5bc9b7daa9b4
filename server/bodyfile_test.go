package server

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// readerFromRecorder is a ResponseRecorder that takes files through
// io.ReaderFrom, as net/http's response does.
type readerFromRecorder struct{ *httptest.ResponseRecorder }

func (r readerFromRecorder) ReadFrom(src io.Reader) (int64, error) {
	return io.Copy(r.ResponseRecorder, src)
}

// TestBodyFile: large identity bodies go out of the entity's file, over a
// real connection (sendfile) and through io.ReaderFrom, byte for byte, to
// many concurrent readers; HEAD sends none.
func TestBodyFile(t *testing.T) {
	body := []byte(strings.Repeat("<item>refeed 聚合 sendfile</item>\n", 4000))
	if len(body) < minFileBody {
		t.Fatal("body too small for a file")
	}
	e := makeEntity(&gzipPool{}, body, ctypeHTML, time.Unix(1700000000, 0), 60)
	e.cached = true

	rec := readerFromRecorder{httptest.NewRecorder()}
	e.write(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if !bytes.Equal(rec.Body.Bytes(), body) {
		t.Fatal("ReaderFrom response differs from the body")
	}
	if e.fileBody() == nil {
		t.Skip("no body file on this system")
	}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { e.write(w, r) }))
	defer srv.Close()
	// Go's client asks for gzip by default: this test is about identity.
	client := &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 32}}
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 4 {
				res, err := client.Get(srv.URL)
				if err != nil {
					errs <- err.Error()
					return
				}
				got, err := io.ReadAll(res.Body)
				res.Body.Close()
				if err != nil || !bytes.Equal(got, body) || res.Header.Get("Content-Length") != e.hLength[0] {
					errs <- fmt.Sprintf("response: %d bytes (want %d), err %v, equal %v, length %q", len(got), len(body), err, bytes.Equal(got, body), res.Header.Get("Content-Length"))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	res, err := client.Head(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if n != 0 || res.ContentLength != int64(len(body)) {
		t.Errorf("HEAD: %d body bytes, Content-Length %d", n, res.ContentLength)
	}
}

// TestBodyFileSmall: small bodies, and entities made for one response, are
// written from memory.
func TestBodyFileSmall(t *testing.T) {
	e := makeEntity(&gzipPool{}, []byte("<x/>"), ctypeHTML, time.Time{}, 60)
	e.cached = true
	if e.fileBody() != nil {
		t.Error("a 4-byte body got a file")
	}
	big := makeEntity(&gzipPool{}, make([]byte, 2*minFileBody), ctypeHTML, time.Time{}, 60)
	if big.fileBody() != nil {
		t.Error("an entity outside the render cache got a file")
	}
}

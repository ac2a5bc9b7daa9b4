// Command stub is bench/sched's source server: it answers every request
// with 304 Not Modified (and an ETag), and records when each source was
// fetched, to report how polls spread over time and whether any source was
// fetched twice at once.
//
//	stub -addr 127.0.0.1:0 -addr-file FILE
//	curl 'http://ADDR/_report?from=UNIX_MS&to=UNIX_MS&window=10s&interval=60s'
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"
)

// hits are the fetch times of each source path, in unix milliseconds.
type hits struct {
	mu     sync.Mutex
	byPath map[string][]int64
}

func (h *hits) add(path string, at int64) {
	h.mu.Lock()
	h.byPath[path] = append(h.byPath[path], at)
	h.mu.Unlock()
}

// report is what /_report answers for a time range.
type report struct {
	Polls      int     `json:"polls"`       // fetches in [from, to)
	Sources    int     `json:"sources"`     // distinct sources fetched in it
	PerSecond  float64 `json:"per_second"`  // mean rate
	Busiest    int     `json:"busiest"`     // most fetches in any window of the range
	WindowMean float64 `json:"window_mean"` // mean fetches per window
	BusiestX   float64 `json:"busiest_x"`   // Busiest / WindowMean
	Twice10ms  int     `json:"twice_10ms"`  // fetches of a source within 10 ms of its previous one, in [from, to)
	Early      int     `json:"early"`       // fetches of a source less than half an interval after its previous one, in [from, to)
}

func (h *hits) report(from, to int64, window, interval time.Duration) report {
	h.mu.Lock()
	defer h.mu.Unlock()
	var r report
	secs := int((to - from + 999) / 1000) // the last second may be partial
	if secs <= 0 {
		return r
	}
	perSec := make([]int, secs)
	for _, ts := range h.byPath {
		in := 0
		for i, t := range ts {
			if t < from || t >= to {
				continue
			}
			perSec[(t-from)/1000]++
			in++
			if i == 0 || ts[i-1] < from {
				continue // the previous fetch was another run's
			}
			if t-ts[i-1] < 10 {
				r.Twice10ms++
			}
			if t-ts[i-1] < interval.Milliseconds()/2 {
				r.Early++
			}
		}
		r.Polls += in
		if in > 0 {
			r.Sources++
		}
	}
	w := max(1, int(window/time.Second))
	for i := 0; i+w <= secs; i++ {
		sum := 0
		for _, n := range perSec[i : i+w] {
			sum += n
		}
		r.Busiest = max(r.Busiest, sum)
	}
	r.PerSecond = float64(r.Polls) / float64(secs)
	r.WindowMean = r.PerSecond * float64(w)
	if r.WindowMean > 0 {
		r.BusiestX = float64(r.Busiest) / r.WindowMean
	}
	return r
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	addrFile := flag.String("addr-file", "", "write the address listened on to this file")
	flag.Parse()
	h := &hits{byPath: map[string][]int64{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/_report", func(w http.ResponseWriter, r *http.Request) {
		from, err1 := strconv.ParseInt(r.URL.Query().Get("from"), 10, 64)
		to, err2 := strconv.ParseInt(r.URL.Query().Get("to"), 10, 64)
		window, err3 := time.ParseDuration(r.URL.Query().Get("window"))
		interval, err4 := time.ParseDuration(r.URL.Query().Get("interval"))
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
			http.Error(w, "from, to (unix ms), window and interval (durations) required", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(h.report(from, to, window, interval))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.add(r.URL.Path, time.Now().UnixMilli())
		w.Header().Set("ETag", `"same"`)
		w.WriteHeader(http.StatusNotModified)
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	if *addrFile != "" {
		if err := os.WriteFile(*addrFile, []byte(ln.Addr().String()), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Fprintln(os.Stderr, "stub: serving 304s on", ln.Addr())
	log.Fatal(http.Serve(ln, mux))
}

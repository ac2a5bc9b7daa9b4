// Command gofeedbench times bare gofeed parsing a corpus made by
// bench/ingest/gen, in memory, on -workers goroutines (default GOMAXPROCS):
// the ceiling refeed's ingest pipeline is compared with.
//
//	gofeedbench -dir DIR [-workers N] [-rounds 3]
//
// It reads every file of DIR/manifest.tsv into memory first, then parses all
// of them -rounds times with a fresh gofeed.Parser per file (as a poller
// would), and prints the best round (by wall time, and by CPU time, which a
// busy machine disturbs less), and the median round's items/s, as one line
// of key=value pairs.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mmcdole/gofeed"
)

func main() {
	dir := flag.String("dir", "", "corpus directory (with manifest.tsv)")
	workers := flag.Int("workers", runtime.GOMAXPROCS(0), "goroutines parsing at once")
	rounds := flag.Int("rounds", 3, "times to parse the whole corpus; the best is printed")
	flag.Parse()
	if err := run(*dir, *workers, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "gofeedbench:", err)
		os.Exit(1)
	}
}

func run(dir string, workers, rounds int) error {
	bodies, err := load(dir)
	if err != nil {
		return err
	}
	var size int
	for _, b := range bodies {
		size += len(b)
	}
	var took, cpu []time.Duration
	items := 0
	for range max(rounds, 1) {
		cpu0 := cpuTime()
		n, d, err := parseAll(bodies, max(workers, 1))
		if err != nil {
			return err
		}
		took = append(took, d)
		cpu = append(cpu, cpuTime()-cpu0)
		items = n
	}
	slices.Sort(took)
	slices.Sort(cpu)
	best, bestCPU, median := took[0], cpu[0], took[len(took)/2]
	fmt.Printf("files=%d bytes=%d items=%d workers=%d seconds=%.3f items_per_s=%.0f mb_per_s=%.1f cpu_seconds=%.3f items_per_cpu_s=%.0f median_items_per_s=%.0f\n",
		len(bodies), size, items, workers, best.Seconds(), float64(items)/best.Seconds(), float64(size)/1e6/best.Seconds(),
		bestCPU.Seconds(), float64(items)/bestCPU.Seconds(), float64(items)/median.Seconds())
	return nil
}

// load reads the files listed in dir/manifest.tsv.
func load(dir string) ([][]byte, error) {
	m, err := os.Open(filepath.Join(dir, "manifest.tsv"))
	if err != nil {
		return nil, err
	}
	defer m.Close()
	var out [][]byte
	sc := bufio.NewScanner(m)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) < 2 {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, fields[1]))
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, sc.Err()
}

// parseAll parses every body once on workers goroutines and returns the
// items found and the wall time taken.
func parseAll(bodies [][]byte, workers int) (int, time.Duration, error) {
	runtime.GC() // start each round from the same heap
	var (
		next, items atomic.Int64
		wg          sync.WaitGroup
		mu          sync.Mutex
		firstErr    error
	)
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(bodies) {
					return
				}
				feed, err := gofeed.NewParser().Parse(bytes.NewReader(bodies[i]))
				if err != nil {
					mu.Lock()
					firstErr = cmpErr(firstErr, fmt.Errorf("file %d: %w", i, err))
					mu.Unlock()
					continue
				}
				items.Add(int64(len(feed.Items)))
			}
		})
	}
	wg.Wait()
	return int(items.Load()), time.Since(start), firstErr
}

// cpuTime is the user+system CPU time the process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

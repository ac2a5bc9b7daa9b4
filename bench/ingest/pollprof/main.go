// Command pollprof runs one poll of a config the way `refeed poll` does
// (config, SQLite store, aggregator) with CPU and heap profiles, to find
// where the ingest benchmark's time and memory go.
//
//	pollprof -c config.toml -cpuprofile cpu.pprof [-memprofile mem.pprof] [-trace trace.out] [-force]
//	go tool pprof -top cpu.pprof
//	go tool trace -pprof=sched trace.out > sched.pprof  # who waited for a CPU
//
// It also prints the write syscalls (SQLite writes a WAL frame with two)
// and the peak RSS, from /proc/self.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"time"

	"github.com/refeed/refeed/aggregator"
	"github.com/refeed/refeed/config"
	"github.com/refeed/refeed/internal/gcfloor"
	"github.com/refeed/refeed/storage"
	"github.com/refeed/refeed/storage/sqlite"
)

func main() {
	cfgPath := flag.String("c", "config.toml", "config file")
	cpu := flag.String("cpuprofile", "", "write a CPU profile to this file")
	mem := flag.String("memprofile", "", "write a heap profile (after the poll) to this file")
	force := flag.Bool("force", false, "poll every source, without validators")
	heapAt := flag.Duration("heapat", 0, "with -memprofile: write the in-use heap this long into the poll instead of the allocations after it")
	traceOut := flag.String("trace", "", "write an execution trace of the poll to this file (go tool trace -pprof=sched)")
	flag.Parse()
	gcfloor.StartUnlessSet(gcfloor.Default) // as refeed does (cmd/refeed/main.go)
	if err := run(context.Background(), *cfgPath, *cpu, *mem, *traceOut, *heapAt, *force); err != nil {
		fmt.Fprintln(os.Stderr, "pollprof:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfgPath, cpu, mem, traceOut string, heapAt time.Duration, force bool) error {
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	t0 := time.Now()
	st, err := sqlite.Open(ctx, cfg.Storage.Path)
	if err != nil {
		return err
	}
	defer st.Close()
	var scs []storage.SourceConfig
	var srcs []aggregator.Source
	for _, s := range cfg.Sources {
		sc := storage.SourceConfig{Name: s.Name, URL: s.URL, Category: s.Category, Tags: s.Tags, Interval: s.Interval}
		scs = append(scs, sc)
		srcs = append(srcs, aggregator.Source{SourceConfig: sc, Include: s.Include, Exclude: s.Exclude})
	}
	t1 := time.Now()
	if err := st.SyncSources(ctx, scs); err != nil {
		return err
	}
	t2 := time.Now()
	agg := aggregator.New(st, srcs, aggregator.Options{
		Concurrency: cfg.Poll.Concurrency, PerHost: cfg.Poll.PerHost, Timeout: cfg.Poll.Timeout,
		MaxBody: cfg.Poll.MaxBody, Location: cfg.Location,
	})
	if cpu != "" {
		f, err := os.Create(cpu)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if traceOut != "" {
		f, err := os.Create(traceOut)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := trace.Start(f); err != nil {
			return err
		}
		defer trace.Stop()
	}
	if mem != "" && heapAt > 0 {
		path := mem
		t := time.AfterFunc(heapAt, func() {
			if err := writeProfile(path, "heap"); err != nil {
				fmt.Fprintln(os.Stderr, "pollprof:", err)
			}
		})
		defer t.Stop()
		mem = ""
	}
	start := time.Now()
	results, err := agg.Poll(ctx, nil, force, nil)
	took := time.Since(start)
	if err != nil {
		return err
	}
	n, failed := 0, 0
	for _, r := range results {
		n += r.New + r.Updated
		if r.Err != nil {
			failed++
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("open=%.3fs sync=%.3fs ", t1.Sub(t0).Seconds(), t2.Sub(t1).Seconds())
	fmt.Printf("sources=%d posts_written=%d failed=%d seconds=%.3f heap_sys_mib=%d go_sys_mib=%d total_alloc_mib=%d num_gc=%d %s\n",
		len(results), n, failed, took.Seconds(), ms.HeapSys>>20, ms.Sys>>20, ms.TotalAlloc>>20, ms.NumGC, ioStats())
	if mem != "" {
		return writeProfile(mem, "allocs")
	}
	return nil
}

// writeProfile writes the named runtime profile to path.
func writeProfile(path, name string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup(name).WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ioStats returns the process's write syscalls and bytes so far (Linux's
// /proc/self/io), or "" where that is not available: SQLite writes each WAL
// frame with two pwrite calls, so syscw shows what a schema or page-size
// change does to the writer.
func ioStats() string {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return ""
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ": ")
		if ok && (k == "syscw" || k == "wchar" || k == "syscr" || k == "rchar") {
			out = append(out, k+"="+v)
		}
	}
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && (k == "VmHWM" || k == "VmRSS") {
				out = append(out, k+"="+strings.Join(strings.Fields(v), ""))
			}
		}
	}
	return strings.Join(out, " ")
}

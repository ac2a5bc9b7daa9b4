// Command pserve serves a bench/serve database the way `refeed serve` does
// (same server options, metrics and http.Server timeouts, no poller) and
// writes a CPU profile of the serving, for finding what limits req/s under
// wrk:
//
//	pserve -c /tmp/refeed-bench-serve/n1000000/config.toml -listen 127.0.0.1:18081 -cpuprofile cpu.prof -for 15s
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"net/http"
	"os"
	"runtime/pprof"
	"time"

	"github.com/refeed/refeed/config"
	"github.com/refeed/refeed/feeds"
	"github.com/refeed/refeed/server"
	"github.com/refeed/refeed/storage/sqlite"
)

func main() {
	cfgPath := flag.String("c", "", "config.toml written by bench/serve/fill")
	listen := flag.String("listen", "127.0.0.1:18081", "address to serve on")
	cpuprofile := flag.String("cpuprofile", "", "CPU profile file")
	wait := flag.Duration("wait", 3*time.Second, "serve this long before profiling (prime the cache)")
	d := flag.Duration("for", 15*time.Second, "how long to profile")
	flag.Parse()
	if err := run(*cfgPath, *listen, *cpuprofile, *wait, *d); err != nil {
		log.Fatal("pserve: ", err)
	}
}

func run(cfgPath, listen, cpuprofile string, wait, d time.Duration) error {
	ctx := context.Background()
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	st, err := sqlite.Open(ctx, cfg.Storage.Path)
	if err != nil {
		return err
	}
	defer st.Close()
	o := server.Options{
		Site: feeds.Site{Title: cfg.Title, Description: cfg.Description, BaseURL: cfg.BaseURL,
			Language: cfg.Language, Location: cfg.Location, Generator: "refeed dev"},
		Items: cfg.Output.Items, MaxItems: cfg.Output.MaxItems, CacheBytes: cfg.Output.Cache,
		Metrics: server.NewMetrics(),
	}
	for _, c := range cfg.Categories {
		o.Categories = append(o.Categories, server.Category{Slug: c.Slug, Title: c.Title, Description: c.Description})
	}
	for _, s := range cfg.Sources {
		o.Sources = append(o.Sources, server.Source{Name: s.Name, Category: s.Category, Tags: s.Tags, Interval: s.Interval})
	}
	srv, err := server.New(st, o)
	if err != nil {
		return err
	}
	hs := &http.Server{Addr: listen, Handler: srv, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second}
	go func() {
		if err := hs.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Fatal("pserve: ", err)
		}
	}()
	time.Sleep(wait)
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		time.Sleep(d)
		pprof.StopCPUProfile()
	} else {
		time.Sleep(d)
	}
	return hs.Close()
}

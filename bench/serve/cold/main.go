// Command cold measures cold renders of a category feed in process, through
// httptest, on the database of a config written by bench/serve/fill. For
// each format it prints the median over several categories of
//
//   - cold: the first GET /category/NAME.FORMAT on a server that has served
//     another feed (its render cache misses; it has read the sources at this
//     store version), which is what a reader meets after a poll changed the
//     feed;
//   - first: the first request a new server.Server answers, which also reads
//     every source with its post count from the store;
//
// and then the store calls a render makes (Posts for 50 items, Sources):
//
//	cold rss 3.21 ms (min 2.90 max 4.10, 9 categories)
//
// The SQLite and OS page caches are warm (every measured category is read
// once first): this is the cost of rendering after a poll changed the feed,
// not after a reboot.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/refeed/refeed/config"
	"github.com/refeed/refeed/feeds"
	"github.com/refeed/refeed/server"
	"github.com/refeed/refeed/storage"
	"github.com/refeed/refeed/storage/sqlite"
)

func main() {
	cfgPath := flag.String("c", "", "config.toml written by bench/serve/fill")
	cats := flag.Int("categories", 15, "categories to measure per format (median taken)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the measurements to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal("cold: ", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal("cold: ", err)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(context.Background(), *cfgPath, *cats); err != nil {
		pprof.StopCPUProfile()
		log.Fatal("cold: ", err)
	}
}

func run(ctx context.Context, cfgPath string, ncat int) error {
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	st, err := sqlite.Open(ctx, cfg.Storage.Path)
	if err != nil {
		return err
	}
	defer st.Close()
	opts := options(cfg)
	ncat = min(ncat, len(cfg.Categories))

	// One untimed render first, so that every measurement sees the same
	// warm SQLite and OS caches.
	last := "/category/" + cfg.Categories[len(cfg.Categories)-1].Slug
	if _, err := firstRequest(st, opts, last+".rss"); err != nil {
		return err
	}
	cat := func(i int) string { return "/category/" + cfg.Categories[i*(len(cfg.Categories)-1)/ncat].Slug }
	// Read each measured category's posts once, so that the first format
	// measured does not pay alone for bringing their pages into memory.
	for i := range ncat {
		if _, err := st.Posts(ctx, storage.Query{Category: cfg.Categories[i*(len(cfg.Categories)-1)/ncat].Slug, Limit: cfg.Output.Items}); err != nil {
			return err
		}
	}
	for _, ext := range []string{"rss", "atom", "json"} {
		// A feed's first render on a running server, after a poll changed
		// it: the server has read the sources of this store version before.
		srv, err := server.New(st, opts)
		if err != nil {
			return err
		}
		if _, err := request(srv, last+"."+ext); err != nil {
			return err
		}
		var cold []time.Duration
		for i := range ncat {
			d, err := request(srv, cat(i)+"."+ext)
			if err != nil {
				return err
			}
			cold = append(cold, d)
		}
		report("cold "+ext, cold)
		// The first request a new server answers: it also reads every
		// source from the store.
		var first []time.Duration
		for i := range ncat {
			d, err := firstRequest(st, opts, cat(i)+"."+ext)
			if err != nil {
				return err
			}
			first = append(first, d)
		}
		report("first "+ext, first)
	}
	// Where a cold render's time goes: the store calls it makes.
	var posts, srcs []time.Duration
	for i := range ncat {
		t := time.Now()
		if _, err := st.Posts(ctx, storage.Query{Category: cfg.Categories[i*(len(cfg.Categories)-1)/ncat].Slug, Limit: cfg.Output.Items}); err != nil {
			return err
		}
		posts = append(posts, time.Since(t))
		t = time.Now()
		if _, err := st.Sources(ctx); err != nil {
			return err
		}
		srcs = append(srcs, time.Since(t))
	}
	report("store.Posts", posts)
	report("store.Sources", srcs)
	return nil
}

// firstRequest times the first request of path on a new server.
func firstRequest(st *sqlite.Store, opts server.Options, path string) (time.Duration, error) {
	srv, err := server.New(st, opts)
	if err != nil {
		return 0, err
	}
	return request(srv, path)
}

// request times one GET of path.
func request(srv *server.Server, path string) (time.Duration, error) {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	rec := httptest.NewRecorder()
	t := time.Now()
	srv.ServeHTTP(rec, req)
	d := time.Since(t)
	if rec.Code != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %d %s", path, rec.Code, rec.Body.String())
	}
	return d, nil
}

func report(name string, ds []time.Duration) {
	slices.Sort(ds)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	fmt.Fprintf(os.Stdout, "%s %.2f ms (min %.2f max %.2f, %d categories)\n",
		name, ms(ds[len(ds)/2]), ms(ds[0]), ms(ds[len(ds)-1]), len(ds))
}

// options builds the server options as `refeed serve` does from cfg.
func options(cfg *config.Config) server.Options {
	o := server.Options{
		Site: feeds.Site{
			Title: cfg.Title, Description: cfg.Description, BaseURL: cfg.BaseURL,
			Language: cfg.Language, Location: cfg.Location, Hub: cfg.Server.WebSubHub,
			Generator: "refeed dev",
		},
		Items: cfg.Output.Items, MaxItems: cfg.Output.MaxItems, CacheBytes: cfg.Output.Cache,
	}
	for _, c := range cfg.Categories {
		o.Categories = append(o.Categories, server.Category{Slug: c.Slug, Title: c.Title, Description: c.Description})
	}
	for _, s := range cfg.Sources {
		o.Sources = append(o.Sources, server.Source{Name: s.Name, Category: s.Category, Tags: s.Tags, Interval: s.Interval})
	}
	return o
}

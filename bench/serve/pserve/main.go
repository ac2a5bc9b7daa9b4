// Command pserve serves a bench/serve database the way `refeed serve` does
// (same server options, metrics, fasthttp server and timeouts, no poller)
// and writes a CPU profile of the serving, for finding what limits req/s
// under wrk:
//
//	pserve -c /tmp/refeed-bench-serve/n1000000/config.toml -listen 127.0.0.1:18081 -cpuprofile cpu.prof -for 15s
//
// With -static FILE it serves instead FILE and FILE.gz from memory at every
// path with the least a handler can do (fixed headers, ETag, gzip, 304): the
// ceiling of the HTTP server here, to tell refeed's own cost from the
// server's. -nethttp serves with Go's net/http (the server `refeed serve`
// used before fasthttp) instead of fasthttp.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"log"
	"net/http"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

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
	static := flag.String("static", "", "serve this file (and FILE.gz) with a minimal handler instead of refeed")
	nethttp := flag.Bool("nethttp", false, "serve with net/http instead of fasthttp")
	flag.Parse()
	if err := run(*cfgPath, *listen, *cpuprofile, *static, *nethttp, *wait, *d); err != nil {
		log.Fatal("pserve: ", err)
	}
}

func run(cfgPath, listen, cpuprofile, static string, nethttp bool, wait, d time.Duration) error {
	var h http.Handler
	var fh fasthttp.RequestHandler
	var fs *fasthttp.Server
	switch {
	case static != "":
		body, gz, err := readStatic(static)
		if err != nil {
			return err
		}
		h, fh = staticHandler(body, gz), fastStaticHandler(body, gz)
		fs = &fasthttp.Server{Handler: fh, NoDefaultServerHeader: true, NoDefaultContentType: true}
	default:
		st, srv, err := refeed(cfgPath)
		if err != nil {
			return err
		}
		defer st.Close()
		h, fs = srv, srv.FastServer()
	}
	if nethttp {
		hs := &http.Server{Addr: listen, Handler: h, ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second}
		go func() {
			if err := hs.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Fatal("pserve: ", err)
			}
		}()
		defer hs.Close()
	} else {
		fs.ReadTimeout, fs.WriteTimeout, fs.IdleTimeout = 30*time.Second, 60*time.Second, 120*time.Second
		go func() {
			if err := fs.ListenAndServe(listen); err != nil {
				log.Fatal("pserve: ", err)
			}
		}()
		defer fs.Shutdown()
	}
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
	return nil
}

func readStatic(file string) (body, gz []byte, err error) {
	if body, err = os.ReadFile(file); err != nil {
		return nil, nil, err
	}
	if gz, err = os.ReadFile(file + ".gz"); err != nil {
		return nil, nil, err
	}
	return body, gz, nil
}

// The static handlers' validators.
const etag, gzETag = `"static"`, `"static-gz"`

// staticHandler serves body and its gzip form with fixed headers.
func staticHandler(body, gz []byte) http.Handler {
	one := func(v string) []string { return []string{v} }
	ctype, vary, enc := one("application/rss+xml; charset=utf-8"), one("Accept-Encoding"), one("gzip")
	tags, lens := [2][]string{one(etag), one(gzETag)}, [2][]string{one(strconv.Itoa(len(body))), one(strconv.Itoa(len(gz)))}
	bodies := [2][]byte{body, gz}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := 0
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			i = 1
		}
		h := w.Header()
		h["Etag"], h["Vary"] = tags[i], vary
		if inm := r.Header.Get("If-None-Match"); inm == etag || inm == gzETag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h["Content-Type"], h["Content-Length"] = ctype, lens[i]
		if i == 1 {
			h["Content-Encoding"] = enc
		}
		_, _ = w.Write(bodies[i])
	})
}

// fastStaticHandler is staticHandler for fasthttp: the same headers.
func fastStaticHandler(body, gz []byte) fasthttp.RequestHandler {
	tags := [2][]byte{[]byte(etag), []byte(gzETag)}
	bodies := [2][]byte{body, gz}
	ctype, vary, enc := []byte("application/rss+xml; charset=utf-8"), []byte("Accept-Encoding"), []byte("gzip")
	return func(ctx *fasthttp.RequestCtx) {
		i := 0
		if bytes.Contains(ctx.Request.Header.Peek("Accept-Encoding"), enc) {
			i = 1
		}
		h := &ctx.Response.Header
		h.SetCanonical([]byte("Etag"), tags[i])
		h.SetCanonical([]byte("Vary"), vary)
		if inm := ctx.Request.Header.Peek("If-None-Match"); bytes.Equal(inm, tags[0]) || bytes.Equal(inm, tags[1]) {
			ctx.SetStatusCode(http.StatusNotModified)
			return
		}
		h.SetContentTypeBytes(ctype)
		if i == 1 {
			h.SetContentEncodingBytes(enc)
		}
		ctx.Response.SetBodyRaw(bodies[i])
	}
}

// refeed opens the database of cfgPath and builds the server as `refeed
// serve` does.
func refeed(cfgPath string) (*sqlite.Store, *server.Server, error) {
	ctx := context.Background()
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return nil, nil, err
	}
	st, err := sqlite.Open(ctx, cfg.Storage.Path)
	if err != nil {
		return nil, nil, err
	}
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
		st.Close()
		return nil, nil, err
	}
	return st, srv, nil
}

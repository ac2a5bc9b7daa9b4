package main

import (
	"context"
	"errors"
	"flag"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/refeed/refeed/aggregator"
	"github.com/refeed/refeed/config"
	"github.com/refeed/refeed/server"
)

// Server timeouts, and how long a shutdown may take. fasthttp has no
// separate header timeout: readTimeout bounds reading the whole request.
const (
	readTimeout     = 30 * time.Second
	writeTimeout    = 60 * time.Second
	idleTimeout     = 120 * time.Second
	shutdownTimeout = 15 * time.Second
)

func serveSetup(fs *flag.FlagSet) runFunc {
	poll := fs.Bool("poll", true, "poll the sources on schedule; -poll=false only serves, and refeed poll runs from cron or a timer")
	return func(ctx context.Context, e *env, fs *flag.FlagSet, args []string) int {
		return runServe(ctx, e, fs, args, *poll)
	}
}

func runServe(ctx context.Context, e *env, fs *flag.FlagSet, args []string, poll bool) int {
	cfg, st, code := e.open(ctx, fs, args)
	if st == nil {
		return code
	}
	defer st.Close()

	metrics := server.NewMetrics()
	srv, err := server.New(st, serverOptions(e, cfg, metrics))
	if err != nil {
		e.log.Error("serve", "error", err)
		return exitUsage
	}
	aopts := aggregatorOptions(e, cfg)
	aopts.OnResult = func(r aggregator.Result) {
		metrics.ObservePoll(r.Status, r.ErrorClass, r.New, r.Updated, r.Took)
	}
	agg := aggregator.New(st, aggregatorSources(cfg), aopts)

	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		e.log.Error("serve: listen", "addr", cfg.Server.Listen, "error", err)
		return exitUsage
	}
	// fasthttp serves the hot cached feeds itself and everything else
	// through the net/http handlers (server.FastHandler).
	httpSrv := srv.FastServer()
	httpSrv.ReadTimeout = readTimeout
	httpSrv.WriteTimeout = writeTimeout
	httpSrv.IdleTimeout = idleTimeout
	e.log.Info("serving", "url", "http://"+ln.Addr().String()+"/", "base_url", cfg.BaseURL,
		"config", cfg.Path, "database", cfg.Storage.Path, "sources", len(cfg.Sources), "poll", poll)

	// Background work stops on its own context, after the HTTP server drained.
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	hubClient := &http.Client{Timeout: 15 * time.Second}
	if poll {
		wg.Go(func() {
			if err := agg.Run(bg); err != nil && !errors.Is(err, context.Canceled) {
				e.log.Error("poller stopped", "error", err)
			}
		})
	}
	changed, reloaded := make(chan struct{}, 1), make(chan struct{}, 1)
	wg.Go(func() {
		for {
			select {
			case <-bg.Done():
				return
			case <-agg.Changed():
				srv.Invalidate()
				poke(changed)
				if err := srv.PingHub(bg, hubClient); err != nil {
					e.log.Warn("websub ping failed", "error", err)
				}
			}
		}
	})
	var cfgMu sync.Mutex
	current := cfg
	wg.Go(func() {
		retention(bg, e.log, st, e.owner, func() *config.Config { cfgMu.Lock(); defer cfgMu.Unlock(); return current },
			changed, reloaded, srv.Invalidate)
	})

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	wg.Go(func() {
		for {
			select {
			case <-bg.Done():
				return
			case <-hup:
				next, err := config.Load(e.configPath)
				if err != nil {
					e.log.Error("reload refused: config has errors; keeping the running config", "config", e.configPath, "error", err.Error())
					continue
				}
				if keys := restartKeys(cfg, next); len(keys) > 0 {
					e.log.Warn("reload: some changes need a restart; until then the values serve started with stay", "keys", keys)
				}
				if err := st.SyncSources(bg, sourceConfigs(next)); err != nil {
					e.log.Error("reload failed", "error", err)
					continue
				}
				agg.SetSources(aggregatorSources(next))
				srv.SetOptions(serverOptions(e, next, metrics))
				cfgMu.Lock()
				current = next
				cfgMu.Unlock()
				poke(reloaded)
				e.log.Info("config reloaded", "config", next.Path, "categories", len(next.Categories), "sources", len(next.Sources))
			}
		}
	})

	serveErr := make(chan error, 1)
	go func() { serveErr <- httpSrv.Serve(ln) }()
	code = exitOK
	select {
	case <-ctx.Done():
		e.log.Info("shutting down")
	case err := <-serveErr:
		e.log.Error("http server stopped", "error", err)
		code = exitPartial
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := httpSrv.ShutdownWithContext(sctx); err != nil {
		e.log.Warn("shutdown: requests still in flight were cut", "error", err)
	}
	stopBG()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-sctx.Done():
		e.log.Warn("shutdown: polls still running were abandoned")
	}
	e.log.Info("stopped")
	return code
}

// poke sends on c without blocking; c has a buffer of one, so pokes coalesce.
func poke(c chan<- struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

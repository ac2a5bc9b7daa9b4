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
	"github.com/refeed/refeed/storage"
)

// Server timeouts, and how long a shutdown may take. fasthttp has no
// separate header timeout: readTimeout bounds reading the whole request.
// Background work (polls, their saves, retention) gets a budget of its own
// after the HTTP server has drained: a save in flight may take up to
// aggregator.SaveTimeout, and the store is closed only after it.
const (
	readTimeout     = 30 * time.Second
	writeTimeout    = 60 * time.Second
	idleTimeout     = 120 * time.Second
	shutdownTimeout = 15 * time.Second
	backgroundStop  = aggregator.SaveTimeout + 10*time.Second
)

func serveSetup(fs *flag.FlagSet) runFunc {
	poll := fs.Bool("poll", true, "poll the sources on schedule; -poll=false only serves, and refeed poll runs from cron or a timer")
	return func(ctx context.Context, e *env, fs *flag.FlagSet, args []string) int {
		return runServe(ctx, e, fs, args, *poll)
	}
}

// serveApp is one running `refeed serve`: the store, the server, the
// aggregator and the background work around them.
type serveApp struct {
	e       *env
	st      storage.Store
	srv     *server.Server
	agg     *aggregator.Aggregator
	metrics *server.Metrics
	started *config.Config // the config serve started with

	cfgMu   sync.Mutex
	current *config.Config // the config in force (reloads replace it)

	bg       context.Context // background work's context, cancelled after the HTTP server drained
	stopBG   context.CancelFunc
	wg       sync.WaitGroup
	changed  chan struct{} // posts changed (retention's settle timer)
	reloaded chan struct{} // the config was reloaded
}

func runServe(ctx context.Context, e *env, fs *flag.FlagSet, args []string, poll bool) int {
	cfg, st, code := e.open(ctx, fs, args)
	if st == nil {
		return code
	}
	defer e.closeStore(st)
	app, err := newServeApp(ctx, e, cfg, st)
	if err != nil {
		e.log.Error("serve", "error", err)
		return exitUsage
	}
	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		e.log.Error("serve: listen", "addr", cfg.Server.Listen, "error", err)
		return exitUsage
	}
	// fasthttp serves the hot cached feeds itself and everything else
	// through the net/http handlers (server.FastHandler).
	httpSrv := app.srv.FastServer()
	httpSrv.ReadTimeout = readTimeout
	httpSrv.WriteTimeout = writeTimeout
	httpSrv.IdleTimeout = idleTimeout
	e.log.Info("serving", "url", "http://"+ln.Addr().String()+"/", "base_url", cfg.BaseURL,
		"config", cfg.Path, "database", databaseName(cfg), "sources", len(cfg.Sources), "poll", poll)

	app.startBackground(poll)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	app.wg.Go(func() {
		for {
			select {
			case <-app.bg.Done():
				return
			case <-hup:
				app.reload()
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
	app.stop(backgroundStop)
	e.log.Info("stopped")
	return code
}

// newServeApp builds the server and the aggregator over st for cfg.
func newServeApp(ctx context.Context, e *env, cfg *config.Config, st storage.Store) (*serveApp, error) {
	a := &serveApp{e: e, st: st, metrics: server.NewMetrics(), started: cfg, current: cfg,
		changed: make(chan struct{}, 1), reloaded: make(chan struct{}, 1)}
	var err error
	if a.srv, err = server.New(st, serverOptions(e, cfg, a.metrics)); err != nil {
		return nil, err
	}
	aopts := aggregatorOptions(e, cfg)
	aopts.OnResult = func(r aggregator.Result) {
		a.metrics.ObservePoll(r.Status, r.ErrorClass, r.New, r.Updated, r.Took)
	}
	a.agg = aggregator.New(st, aggregatorSources(cfg), aopts)
	// Background work stops on its own context, after the HTTP server drained.
	a.bg, a.stopBG = context.WithCancel(context.WithoutCancel(ctx))
	return a, nil
}

// config is the config in force.
func (a *serveApp) config() *config.Config {
	a.cfgMu.Lock()
	defer a.cfgMu.Unlock()
	return a.current
}

// startBackground starts the poller (if poll), the change loop (cache
// invalidation and WebSub pings) and retention.
func (a *serveApp) startBackground(poll bool) {
	e := a.e
	if poll {
		a.wg.Go(func() {
			if err := a.agg.Run(a.bg); err != nil && !errors.Is(err, context.Canceled) {
				e.log.Error("poller stopped", "error", err)
			}
		})
	}
	hubClient := &http.Client{Timeout: 15 * time.Second}
	pinged := make(chan struct{}, 1)
	a.wg.Go(func() {
		for {
			select {
			case <-a.bg.Done():
				return
			case <-a.agg.Changed():
				a.srv.Invalidate()
				poke(a.changed)
				poke(pinged)
			}
		}
	})
	p := &pinger{st: a.st, owner: e.owner, log: e.log, now: time.Now,
		hub:  func() string { return a.config().Server.WebSubHub },
		ping: func(ctx context.Context) error { return a.srv.PingHub(ctx, hubClient) }}
	a.wg.Go(func() { p.run(a.bg, pinged) })
	a.wg.Go(func() {
		retention(a.bg, e.log, a.st, e.owner, a.config, a.changed, a.reloaded, a.srv.Invalidate)
	})
}

// reload re-reads the config file (SIGHUP) and applies it, or keeps the
// running config if it has errors.
func (a *serveApp) reload() {
	e := a.e
	next, err := config.Load(e.configPath)
	if err != nil {
		e.log.Error("reload refused: config has errors; keeping the running config", "config", e.configPath, "error", err.Error())
		return
	}
	if keys := restartKeys(a.started, next); len(keys) > 0 {
		e.log.Warn("reload: some changes need a restart; until then the values serve started with stay", "keys", keys)
	}
	// The poller learns the new sources before the store has them: one the
	// sync adds and the poller claims at once must not be one it does not
	// know (it would wait out its lease).
	a.agg.SetSources(aggregatorSources(next))
	if err := syncConfig(a.bg, a.st, e.owner, next); err != nil {
		a.agg.SetSources(aggregatorSources(a.config()))
		e.log.Error("reload failed", "error", err)
		return
	}
	if e.reg != nil {
		e.reg.set(sourceNames(next))
	}
	a.srv.SetOptions(serverOptions(e, next, a.metrics))
	a.cfgMu.Lock()
	a.current = next
	a.cfgMu.Unlock()
	poke(a.reloaded)
	e.log.Info("config reloaded", "config", next.Path, "categories", len(next.Categories), "sources", len(next.Sources))
}

// stop cancels the background work and waits for it, at most bound: polls
// in flight are cancelled, but a save already running finishes (within
// aggregator.SaveTimeout) before the store may be closed. It reports
// whether everything stopped in time.
func (a *serveApp) stop(bound time.Duration) bool {
	a.stopBG()
	done := make(chan struct{})
	go func() { a.wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(bound):
		a.e.log.Warn("shutdown: background work still running was abandoned", "waited", bound.String())
		return false
	}
}

// poke sends on c without blocking; c has a buffer of one, so pokes coalesce.
func poke(c chan<- struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

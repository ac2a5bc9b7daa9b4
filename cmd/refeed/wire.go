package main

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"

	"github.com/refeed/refeed/aggregator"
	"github.com/refeed/refeed/config"
	"github.com/refeed/refeed/feeds"
	"github.com/refeed/refeed/server"
	"github.com/refeed/refeed/storage"
	"github.com/refeed/refeed/storage/postgres"
	"github.com/refeed/refeed/storage/sqlite"
)

// openBackend opens the storage backend the config names: the one place
// that chooses one. [storage] url selects PostgreSQL; otherwise SQLite at
// [storage] path. log hears of schema upgrades, which can take a while.
func openBackend(ctx context.Context, cfg *config.Config, log *slog.Logger) (storage.Store, error) {
	if cfg.Storage.URL != "" {
		return openURL(ctx, cfg.Storage.URL, poolSize(cfg), log)
	}
	st, err := sqlite.Open(ctx, cfg.Storage.Path, sqlite.WithLogger(log))
	if err != nil {
		return nil, err
	}
	return st, nil
}

// openURL opens a database by URL: postgres://… or sqlite:PATH (as
// refeed migrate-db -to names them).
func openURL(ctx context.Context, u string, pool int, log *slog.Logger) (storage.Store, error) {
	if path, ok := strings.CutPrefix(u, "sqlite:"); ok {
		path = strings.TrimPrefix(path, "//")
		if path == "" {
			return nil, fmt.Errorf("%q names no file: sqlite:PATH", u)
		}
		st, err := sqlite.Open(ctx, path, sqlite.WithLogger(log))
		if err != nil {
			return nil, err
		}
		return st, nil
	}
	if !postgres.IsURL(u) {
		return nil, fmt.Errorf("%s: not a database URL (postgres://… or sqlite:PATH)", postgres.Redact(u))
	}
	st, err := postgres.Open(ctx, u, postgres.WithPoolSize(pool), postgres.WithLogger(log))
	if err != nil {
		return nil, err
	}
	return st, nil
}

// databaseName is the database as logs and refeed stats name it: the
// SQLite file, or the PostgreSQL URL without any password.
func databaseName(cfg *config.Config) string {
	if cfg.Storage.URL != "" {
		return postgres.Redact(cfg.Storage.URL)
	}
	return cfg.Storage.Path
}

// poolSize is [storage] pool, or by default enough connections for the
// poll's concurrent saves and the server's reads: the backend's default,
// or concurrency + 4 when that is more.
func poolSize(cfg *config.Config) int {
	if cfg.Storage.Pool > 0 {
		return cfg.Storage.Pool
	}
	return max(postgres.DefaultPoolSize, cfg.Poll.Concurrency+4)
}

// openStore opens the config's database, registers the config and makes
// the sources match it (configsync.go); closeStore undoes both. e.log
// hears of schema upgrades and of a failure, as cmd's; false means the
// command should exit with exitUsage.
func (e *env) openStore(ctx context.Context, cfg *config.Config, cmd string) (storage.Store, bool) {
	st, err := openBackend(ctx, cfg, e.log)
	if err != nil {
		e.log.Error(cmd, "error", fmt.Errorf("open database: %w", err))
		return nil, false
	}
	if err := syncConfig(ctx, st, e.owner, cfg); err != nil {
		st.Close()
		e.log.Error(cmd, "error", fmt.Errorf("sync sources: %w", err))
		return nil, false
	}
	e.reg = startRegistration(st, e.owner, sourceNames(cfg), e.log)
	return st, true
}

// closeStore ends the config registration and closes st.
func (e *env) closeStore(st storage.Store) {
	if e.reg != nil {
		e.reg.end()
		e.reg = nil
	}
	st.Close()
}

func sourceConfigs(cfg *config.Config) []storage.SourceConfig {
	out := make([]storage.SourceConfig, len(cfg.Sources))
	for i, s := range cfg.Sources {
		out[i] = storage.SourceConfig{Name: s.Name, URL: s.URL, Category: s.Category, Tags: s.Tags, Interval: s.Interval}
	}
	return out
}

func aggregatorSources(cfg *config.Config) []aggregator.Source {
	out := make([]aggregator.Source, len(cfg.Sources))
	for i, s := range cfg.Sources {
		out[i] = aggregator.Source{
			SourceConfig: storage.SourceConfig{Name: s.Name, URL: s.URL, Category: s.Category, Tags: s.Tags, Interval: s.Interval},
			Include:      s.Include,
			Exclude:      s.Exclude,
		}
	}
	return out
}

func aggregatorOptions(e *env, cfg *config.Config) aggregator.Options {
	return aggregator.Options{
		Concurrency: cfg.Poll.Concurrency,
		PerHost:     cfg.Poll.PerHost,
		Timeout:     cfg.Poll.Timeout,
		Lease:       cfg.Poll.Lease,
		MaxBody:     cfg.Poll.MaxBody,
		UserAgent:   cfg.DefaultUserAgent(version()),
		Location:    cfg.Location,
		Logger:      e.log,
		Owner:       e.owner,
	}
}

func site(cfg *config.Config) feeds.Site {
	return feeds.Site{
		Title:       cfg.Title,
		Description: cfg.Description,
		BaseURL:     cfg.BaseURL,
		Language:    cfg.Language,
		Location:    cfg.Location,
		Hub:         cfg.Server.WebSubHub,
		Generator:   "refeed " + version(),
	}
}

func serverOptions(e *env, cfg *config.Config, m *server.Metrics) server.Options {
	o := server.Options{
		Site:       site(cfg),
		Items:      cfg.Output.Items,
		MaxItems:   cfg.Output.MaxItems,
		CacheBytes: cfg.Output.Cache,
		Logger:     e.log,
		Metrics:    m,
	}
	for _, c := range cfg.Categories {
		o.Categories = append(o.Categories, server.Category{Slug: c.Slug, Title: c.Title, Description: c.Description})
	}
	for _, s := range cfg.Sources {
		o.Sources = append(o.Sources, server.Source{Name: s.Name, Category: s.Category, Tags: s.Tags, Interval: s.Interval})
	}
	return o
}

// version is the module version, "dev" for a plain `go build` or `go run`.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok || bi.Main.Version == "" || bi.Main.Version == "(devel)" {
		return "dev"
	}
	return bi.Main.Version
}

// revision is the VCS commit the binary was built from, if recorded.
func revision() (rev string, modified bool) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "", false
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	return rev, modified
}

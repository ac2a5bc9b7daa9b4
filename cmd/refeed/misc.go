package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"text/tabwriter"
	"time"

	"github.com/refeed/refeed/opml"
	"github.com/refeed/refeed/server"
	"github.com/refeed/refeed/storage"
)

func runCheck(ctx context.Context, e *env, fs *flag.FlagSet, args []string) int {
	if !e.noArgs(fs, args) {
		return exitUsage
	}
	cfg, ok := e.loadConfig()
	if !ok {
		return exitUsage
	}
	fmt.Fprintln(e.stdout, cfg.Summary())
	return exitOK
}

func runVersion(ctx context.Context, e *env, fs *flag.FlagSet, args []string) int {
	rev, modified := revision()
	if rev == "" {
		rev = "unknown"
	}
	if modified {
		rev += " (modified)"
	}
	fmt.Fprintf(e.stdout, "refeed %s\ncommit %s\n%s %s/%s\n", version(), rev, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return exitOK
}

// runOPML prints the configured sources; titles come from the database
// when it exists.
func runOPML(ctx context.Context, e *env, fs *flag.FlagSet, args []string) int {
	if !e.noArgs(fs, args) {
		return exitUsage
	}
	cfg, ok := e.loadConfig()
	if !ok {
		return exitUsage
	}
	var srcs []storage.Source
	for _, s := range sourceConfigs(cfg) {
		srcs = append(srcs, storage.Source{SourceConfig: s})
	}
	if cfg.Storage.URL != "" || fileExists(cfg.Storage.Path) {
		st, ok := e.openStore(ctx, cfg, "opml")
		if !ok {
			return exitUsage
		}
		defer e.closeStore(st)
		var err error
		if srcs, err = st.Sources(ctx); err != nil {
			e.log.Error("opml", "error", err)
			return exitPartial
		}
	}
	cats := serverOptions(e, cfg, nil).Categories
	doc := server.OPML(cfg.Title, cats, srcs)
	doc.Created = time.Now()
	if err := opml.Write(e.stdout, doc); err != nil {
		e.log.Error("opml", "error", err)
		return exitPartial
	}
	return exitOK
}

func runBackup(ctx context.Context, e *env, fs *flag.FlagSet, args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(e.stderr, "refeed backup: name the output file: refeed backup OUT")
		return exitUsage
	}
	out := args[0]
	if fileExists(out) {
		fmt.Fprintf(e.stderr, "refeed backup: %s already exists; remove it or name another file\n", out)
		return exitUsage
	}
	cfg, ok := e.loadConfig()
	if !ok {
		return exitUsage
	}
	if cfg.Storage.URL != "" {
		fmt.Fprintln(e.stderr, "refeed backup: the database is PostgreSQL ([storage] url): back it up with pg_dump (pg_dump -Fc -f OUT URL) or pgbackrest")
		return exitUsage
	}
	st, ok := e.openStore(ctx, cfg, "backup")
	if !ok {
		return exitUsage
	}
	defer e.closeStore(st)
	b, ok := st.(storage.Backuper)
	if !ok {
		fmt.Fprintln(e.stderr, "refeed backup: this storage backend has no built-in backup; use the database's own tools")
		return exitUsage
	}
	if err := b.Backup(ctx, out); err != nil {
		e.log.Error("backup", "out", out, "error", err)
		return exitPartial
	}
	info, _ := os.Stat(out)
	size := int64(0)
	if info != nil {
		size = info.Size()
	}
	fmt.Fprintf(e.stdout, "backup written to %s (%d bytes)\n", out, size)
	return exitOK
}

func runStats(ctx context.Context, e *env, fs *flag.FlagSet, args []string) int {
	cfg, st, code := e.open(ctx, fs, args)
	if st == nil {
		return code
	}
	defer e.closeStore(st)
	s, err := st.Stats(ctx)
	if err != nil {
		e.log.Error("stats", "error", err)
		return exitPartial
	}
	w := e.stdout
	fmt.Fprintf(w, "database  %s (%d bytes)\nposts     %d\n", databaseName(cfg), s.SizeBytes, s.Posts)
	if s.Posts > 0 {
		fmt.Fprintf(w, "oldest    %s\nnewest    %s\n", s.Oldest.In(cfg.Location).Format("2006-01-02 15:04 -0700"), s.Newest.In(cfg.Location).Format("2006-01-02 15:04 -0700"))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, sec := range []struct {
		title  string
		counts []storage.Count
	}{{"CATEGORY", s.Categories}, {"TAG", s.Tags}, {"SOURCE", s.Sources}} {
		fmt.Fprintf(tw, "\n%s\tPOSTS\n", sec.title)
		for _, c := range sec.counts {
			fmt.Fprintf(tw, "%s\t%d\n", c.Name, c.Posts)
		}
	}
	_ = tw.Flush()
	return exitOK
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"

	"github.com/refeed/refeed/storage"
	"github.com/refeed/refeed/storage/postgres"
)

func migrateDBSetup(fs *flag.FlagSet) runFunc {
	to := fs.String("to", "", "target database `URL`: postgres://… or sqlite:PATH")
	resume := fs.Bool("resume", false, "copy into a target that holds data already (an interrupted copy); what it holds is kept")
	batch := fs.Int("batch", 1000, "posts per transaction")
	return func(ctx context.Context, e *env, fs *flag.FlagSet, args []string) int {
		return runMigrateDB(ctx, e, *to, *resume, *batch, args)
	}
}

// runMigrateDB copies the configured database into another one, then
// verifies the copy (storage.Copy).
func runMigrateDB(ctx context.Context, e *env, to string, resume bool, batch int, args []string) int {
	if to == "" || len(args) > 0 || batch <= 0 {
		fmt.Fprintln(e.stderr, "refeed migrate-db: name the target: refeed migrate-db -to postgres://HOST/DB or -to sqlite:PATH")
		return exitUsage
	}
	cfg, ok := e.loadConfig()
	if !ok {
		return exitUsage
	}
	if to == "sqlite:"+cfg.Storage.Path && cfg.Storage.URL == "" || to == cfg.Storage.URL {
		fmt.Fprintln(e.stderr, "refeed migrate-db: the target is the configured database itself")
		return exitUsage
	}
	from, ok := e.openStore(ctx, cfg, "migrate-db")
	if !ok {
		return exitUsage
	}
	defer e.closeStore(from)
	target, err := openURL(ctx, to, poolSize(cfg), e.log)
	if err != nil {
		e.log.Error("migrate-db", "error", fmt.Errorf("open the target: %w", err))
		return exitUsage
	}
	defer target.Close()
	src, ok1 := from.(storage.Exporter)
	dst, ok2 := target.(storage.Importer)
	if !ok1 || !ok2 {
		fmt.Fprintln(e.stderr, "refeed migrate-db: this storage backend cannot be copied")
		return exitUsage
	}
	bar := newCopyProgress(e)
	start := time.Now()
	rep, err := storage.Copy(ctx, src, dst, storage.CopyOptions{Batch: batch, Resume: resume, Progress: bar.update})
	bar.finish()
	if errors.Is(err, storage.ErrTargetNotEmpty) {
		fmt.Fprintf(e.stderr, "refeed migrate-db: %v; to finish an interrupted copy into it, add -resume\n", err)
		return exitUsage
	}
	if err != nil {
		e.log.Error("migrate-db", "error", err)
		return exitPartial
	}
	fmt.Fprintf(e.stdout, "copied %d sources, %d posts (%d there already), %d tombstones to %s in %s; verified counts and %d posts\n",
		rep.Sources, rep.Posts, rep.Skipped, rep.Tombstones, postgres.Redact(to), time.Since(start).Round(time.Millisecond), rep.Sampled)
	return exitOK
}

// copyProgress is a progress bar of posts copied, on a terminal only.
type copyProgress struct{ bar *progressbar.ProgressBar }

func newCopyProgress(e *env) *copyProgress {
	f, ok := e.stderr.(*os.File)
	if !ok || !isatty.IsTerminal(f.Fd()) {
		return &copyProgress{}
	}
	return &copyProgress{bar: progressbar.NewOptions(-1,
		progressbar.OptionSetWriter(f),
		progressbar.OptionSetDescription("copying posts"),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionThrottle(100*time.Millisecond),
	)}
}

func (p *copyProgress) update(done, total int) {
	if p.bar == nil {
		return
	}
	p.bar.ChangeMax(max(total, done))
	_ = p.bar.Set(done)
}

func (p *copyProgress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

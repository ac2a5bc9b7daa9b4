package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"

	"github.com/refeed/refeed/aggregator"
	"github.com/refeed/refeed/storage"
)

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func pollSetup(fs *flag.FlagSet) runFunc {
	var sources stringList
	fs.Var(&sources, "source", "poll only this source `NAME` (repeatable)")
	force := fs.Bool("force", false, "poll even sources that are not due, without conditional GET")
	return func(ctx context.Context, e *env, fs *flag.FlagSet, args []string) int {
		return runPoll(ctx, e, fs, args, sources, *force)
	}
}

func runPoll(ctx context.Context, e *env, fs *flag.FlagSet, args []string, pollSources []string, pollForce bool) int {
	if !e.noArgs(fs, args) {
		return exitUsage
	}
	cfg, ok := e.loadConfig()
	if !ok {
		return exitUsage
	}
	for _, name := range pollSources {
		found := false
		for _, s := range cfg.Sources {
			found = found || s.Name == name
		}
		if !found {
			fmt.Fprintf(e.stderr, "refeed poll: -source %q: no such source in %s\n", name, cfg.Path)
			return exitUsage
		}
	}
	st, ok := e.openStore(ctx, cfg, "poll")
	if !ok {
		return exitUsage
	}
	defer e.closeStore(st)
	progress := newPollProgress(e.stderr)
	if progress.bar != nil {
		// Log lines go through the bar, so that they do not land in its middle.
		pe := *e
		var err error
		if pe.log, err = newLogger(progress, e.logFormat, e.logLevel); err != nil {
			e.log.Error("poll", "error", err)
			return exitUsage
		}
		e = &pe
	}
	opts := aggregatorOptions(e, cfg)
	opts.OnClaim = progress.claimed
	agg := aggregator.New(st, aggregatorSources(cfg), opts)
	start := time.Now()
	results, err := agg.Poll(ctx, pollSources, pollForce, progress.add)
	progress.finish()
	if err != nil && ctx.Err() == nil {
		e.log.Error("poll", "error", err)
		return exitPartial
	}
	failed := printSummary(e.stdout, results, time.Since(start))
	if ctx.Err() != nil {
		// Interrupted: what was stored stays; the rest is due next time.
		e.log.Warn("poll interrupted; sources not polled are due on the next run", "polled", len(results))
		return exitPartial
	}
	// Cron users run no serve, so poll applies [storage] keep and
	// keep_per_source itself.
	if n := prune(ctx, e.log, st, e.owner, cfg, time.Now()); n > 0 {
		fmt.Fprintf(e.stdout, "%d old posts pruned\n", n)
	}
	if failed > 0 {
		return exitPartial
	}
	return exitOK
}

// pollProgress is a progress bar on a terminal and nothing otherwise (the
// aggregator logs one line per failure either way). As an io.Writer it
// writes log lines above the bar.
type pollProgress struct {
	w        io.Writer
	mu       sync.Mutex
	bar      *progressbar.ProgressBar
	total    int // sources claimed so far: the bar's length grows with the claims
	newPosts int
	errors   int
}

func newPollProgress(w io.Writer) *pollProgress {
	p := &pollProgress{w: w}
	if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
		p.bar = progressbar.NewOptions(-1,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription("polling"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionThrottle(100*time.Millisecond),
		)
	}
	return p
}

// claimed grows the bar by n claimed sources.
func (p *pollProgress) claimed(n int) {
	if p.bar == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total += n
	p.bar.ChangeMax(p.total)
}

func (p *pollProgress) add(r aggregator.Result) {
	if p.bar == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.newPosts += r.New
	if r.Status == storage.StatusError || r.Status == storage.StatusGone {
		p.errors++
	}
	p.bar.Describe(fmt.Sprintf("polling: %d new, %d errors", p.newPosts, p.errors))
	_ = p.bar.Add(1)
}

// Write clears the bar, writes b (a log line) and draws the bar again below it.
func (p *pollProgress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	_ = p.bar.Clear()
	n, err := p.w.Write(b)
	_ = p.bar.RenderBlank()
	return n, err
}

func (p *pollProgress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

// printSummary writes the per-source table, failures first, and returns how
// many sources failed.
func printSummary(w io.Writer, results []aggregator.Result, took time.Duration) int {
	failedFirst := func(r aggregator.Result) bool {
		return r.Status == storage.StatusError || r.Status == storage.StatusGone
	}
	sort.SliceStable(results, func(i, j int) bool {
		fi, fj := failedFirst(results[i]), failedFirst(results[j])
		if fi != fj {
			return fi
		}
		return results[i].Source < results[j].Source
	})
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tSTATUS\tNEW\tUPDATED\tTOOK\tERROR")
	failed, newPosts, updated := 0, 0, 0
	for _, r := range results {
		status := r.Status
		if status == "" {
			status = "skipped"
		}
		msg := ""
		if r.Err != nil {
			msg = r.ErrorClass + ": " + oneLine(r.Err.Error())
		}
		if failedFirst(r) {
			failed++
		}
		newPosts += r.New
		updated += r.Updated
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\n", r.Source, status, r.New, r.Updated, r.Took.Round(time.Millisecond), msg)
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "%d sources polled in %s: %d new, %d updated, %d failed\n",
		len(results), took.Round(time.Millisecond), newPosts, updated, failed)
	return failed
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// Command gen makes and serves the ingest benchmark's corpus (see
// bench/ingest/run.sh).
//
//	gen corpus -out DIR [-sources 500] [-items 50] [-seed 1]
//	gen serve  -dir DIR [-addr 127.0.0.1:0] [-addr-file FILE]
//	gen stats  -addr HOST:PORT [-reset]
//
// corpus writes DIR/feeds/srcNNN.{xml,atom,json} (70% RSS 2.0, 25% Atom,
// 5% JSON Feed; Chinese and English; 2–4 KB of HTML per item) and
// DIR/manifest.tsv (name, file, format, items, bytes). The output depends
// only on the flags. serve answers /feeds/... from memory with ETag and
// Last-Modified, 304 for conditional requests that match, and /stats with
// request counters (?reset=1 zeroes them). stats prints /stats as one line.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: gen corpus|serve|stats [flags]")
	}
	fs := flag.NewFlagSet("gen "+args[0], flag.ExitOnError)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch args[0] {
	case "corpus":
		out := fs.String("out", "", "directory to write the corpus to")
		sources := fs.Int("sources", 500, "number of sources")
		items := fs.Int("items", 50, "items per source")
		seed := fs.Uint64("seed", 1, "random seed")
		_ = fs.Parse(args[1:])
		if *out == "" {
			return fmt.Errorf("corpus: -out is required")
		}
		entries, err := writeCorpus(*out, *sources, *items, *seed)
		if err != nil {
			return err
		}
		counts := map[string]int{}
		total, bytes := 0, 0
		for _, e := range entries {
			counts[e.Format]++
			total += e.Items
			bytes += e.Bytes
		}
		fmt.Printf("sources=%d items=%d bytes=%d rss=%d atom=%d json=%d avg_feed_bytes=%d\n",
			len(entries), total, bytes, counts[formatRSS], counts[formatAtom], counts[formatJSON], bytes/max(len(entries), 1))
		return nil
	case "serve":
		dir := fs.String("dir", "", "corpus directory")
		addr := fs.String("addr", "127.0.0.1:0", "address to listen on (port 0: a free one)")
		addrFile := fs.String("addr-file", "", "write the address listened on to this file")
		_ = fs.Parse(args[1:])
		return serve(ctx, *dir, *addr, *addrFile)
	case "stats":
		addr := fs.String("addr", "", "server address")
		reset := fs.Bool("reset", false, "zero the counters after reading them")
		_ = fs.Parse(args[1:])
		return fetchStats(ctx, *addr, *reset, os.Stdout)
	}
	return fmt.Errorf("unknown command %q", args[0])
}

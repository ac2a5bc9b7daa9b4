// Command refeed polls the feeds named in a config file into SQLite and
// republishes them as RSS, Atom, JSON Feed and HTML. Run `refeed -h` for the
// commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	_ "time/tzdata" // timezones work on machines without /usr/share/zoneinfo

	"github.com/refeed/refeed/internal/gcfloor"
)

// gcFloor is the memory floor refeed gives the garbage collector (see
// internal/gcfloor) unless GOGC or GOMEMLIMIT says otherwise. A poll's
// garbage is short-lived and its live heap small: in bench/ingest (25,000
// posts) a floor of 28 MiB ran the collector about 160 instead of 380 times
// at the same peak RSS as GOGC=100; each 4 MiB more saved about 0.2 CPU-s
// for 4 MiB of RSS. 36 MiB, with the writer's page cache cut to 4 MB
// (storage/sqlite), peaks at the same 59 MiB as 28 MiB did with 8 MB.
const gcFloor = 36 << 20

func main() {
	if os.Getenv("GOGC") == "" && os.Getenv("GOMEMLIMIT") == "" {
		gcfloor.Start(gcFloor)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

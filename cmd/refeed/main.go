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

func main() {
	gcfloor.StartUnlessSet(gcfloor.Default)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/refeed/refeed/aggregator"
	"github.com/refeed/refeed/config"
	"github.com/refeed/refeed/storage"
)

// Exit codes, per SPEC.
const (
	exitOK      = 0
	exitPartial = 1 // the job ran but some source failed
	exitUsage   = 2 // usage or config error
)

// env is what every command gets: its output streams and the common flags.
type env struct {
	stdout, stderr io.Writer
	configPath     string
	logFormat      string
	logLevel       string
	log            *slog.Logger
	owner          string        // this process's name in claims and leases
	reg            *registration // the config registration of the open store
}

// command is one subcommand.
type command struct {
	name    string
	args    string // synopsis after the name
	summary string
	example string
	// setup declares the command's own flags and returns the function that
	// runs it once they are parsed.
	setup func(fs *flag.FlagSet) runFunc
}

// runFunc runs a command with its flags parsed; it returns the exit code.
type runFunc func(ctx context.Context, e *env, fs *flag.FlagSet, args []string) int

// noFlags is the setup of commands with only the common flags.
func noFlags(run runFunc) func(*flag.FlagSet) runFunc {
	return func(*flag.FlagSet) runFunc { return run }
}

func commands() []command {
	return []command{
		{name: "serve", args: "[-c FILE] [-poll=false]", summary: "poll on schedule and serve HTTP until SIGINT/SIGTERM; SIGHUP re-reads the config",
			example: "refeed serve -c /etc/refeed/config.toml", setup: serveSetup},
		{name: "poll", args: "[-c FILE] [-source NAME]... [-force]", summary: "poll the due sources (or the named ones) once and exit",
			example: "refeed poll -source chinatax -force", setup: pollSetup},
		{name: "check", args: "[-c FILE]", summary: "validate the config and exit",
			example: "refeed check -c config.toml", setup: noFlags(runCheck)},
		{name: "export", args: "jekyll [-c FILE] -out DIR [-category SLUG] [-since DATE]", summary: "write posts as Jekyll files; only changed files are rewritten",
			example: "refeed export jekyll -out site/ -category zhongguoshuiwubao -since 2022-01-01", setup: exportSetup},
		{name: "opml", args: "[-c FILE]", summary: "print the sources as OPML 2.0, grouped by category",
			example: "refeed opml > sources.opml", setup: noFlags(runOPML)},
		{name: "import-opml", args: "FILE", summary: "print [[category]] and [[source]] blocks for the feeds in an OPML file",
			example: "refeed import-opml -c config.toml subscriptions.opml >> config.toml", setup: importSetup},
		{name: "backup", args: "[-c FILE] OUT", summary: "write a consistent copy of the database, even while serve runs",
			example: "refeed backup /var/backups/refeed.db", setup: noFlags(runBackup)},
		{name: "stats", args: "[-c FILE]", summary: "posts per category, tag and source; database size; oldest and newest post",
			example: "refeed stats", setup: noFlags(runStats)},
		{name: "migrate-db", args: "[-c FILE] -to URL [-resume]", summary: "copy the database (sources, posts, poll state) into another one, then verify the copy",
			example: "refeed migrate-db -to postgres://refeed@db.example/refeed", setup: migrateDBSetup},
		{name: "version", summary: "print the version, commit and Go version",
			example: "refeed version", setup: noFlags(runVersion)},
	}
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "refeed %s: a feed aggregator and republisher\n\nusage: refeed [COMMAND] [FLAGS]\n\ncommands:\n", version())
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nWith no command, refeed runs serve. `refeed COMMAND -h` shows a command's flags and an example.\n")
}

// run is the whole program; main only wires OS signals and the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	name := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	switch name {
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return exitOK
	}
	var cmd *command
	for _, c := range commands() {
		if c.name == name {
			cmd = &c
			break
		}
	}
	if cmd == nil {
		fmt.Fprintf(stderr, "refeed: unknown command %q\n\n", name)
		usage(stderr)
		return exitUsage
	}
	e := &env{stdout: stdout, stderr: stderr, owner: aggregator.DefaultOwner()}
	fs := flag.NewFlagSet("refeed "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	if cmd.name != "import-opml" && cmd.name != "version" {
		fs.StringVar(&e.configPath, "c", "config.toml", "config `FILE`")
	}
	fs.StringVar(&e.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&e.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	runCmd := cmd.setup(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: refeed %s %s\n\n%s\n\nflags:\n", cmd.name, cmd.args, cmd.summary)
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nexample:\n  %s\n", cmd.example)
	}
	if cmd.name == "export" {
		// "export jekyll" names the format before the flags.
		if len(args) == 0 || args[0] != "jekyll" {
			if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
				fs.Usage()
				return exitOK
			}
			fmt.Fprintln(stderr, "refeed export: name the format: refeed export jekyll -out DIR")
			return exitUsage
		}
		args = args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	log, err := newLogger(stderr, e.logFormat, e.logLevel)
	if err != nil {
		fmt.Fprintf(stderr, "refeed %s: %v\n", cmd.name, err)
		return exitUsage
	}
	e.log = log
	return runCmd(ctx, e, fs, fs.Args())
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("-log-level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("-log-format %q: use text or json", format)
}

// loadConfig loads e.configPath, printing every error; ok is false on failure.
func (e *env) loadConfig() (*config.Config, bool) {
	cfg, err := config.Load(e.configPath)
	if err != nil {
		fmt.Fprintln(e.stderr, err)
		return nil, false
	}
	return cfg, true
}

// open checks for stray arguments, loads the config and opens its
// database. On failure it has said why, and code is the exit code.
func (e *env) open(ctx context.Context, fs *flag.FlagSet, args []string) (cfg *config.Config, st storage.Store, code int) {
	if !e.noArgs(fs, args) {
		return nil, nil, exitUsage
	}
	cfg, ok := e.loadConfig()
	if !ok {
		return nil, nil, exitUsage
	}
	st, ok = e.openStore(ctx, cfg, fs.Name())
	if !ok {
		return nil, nil, exitUsage
	}
	return cfg, st, exitOK
}

// noArgs complains about stray arguments.
func (e *env) noArgs(fs *flag.FlagSet, args []string) bool {
	if len(args) == 0 {
		return true
	}
	fmt.Fprintf(e.stderr, "%s: unexpected argument %q\n", fs.Name(), args[0])
	fs.Usage()
	return false
}

// fileExists reports whether path exists.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

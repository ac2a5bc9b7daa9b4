// Package config loads and validates refeed's TOML config file. Decoding is
// strict (unknown keys are errors) and every error names the file and line.
package config

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// Config is a loaded and validated config file.
type Config struct {
	Path        string // the file it was read from
	Title       string
	Description string
	BaseURL     string // absolute, without a trailing slash
	Timezone    string
	Location    *time.Location
	Language    string
	Server      Server
	Storage     Storage
	Poll        Poll
	Output      Output
	Categories  []Category
	Sources     []Source
}

// Server is the [server] table.
type Server struct {
	Listen    string
	WebSubHub string
}

// Storage is the [storage] table.
type Storage struct {
	Path          string        // absolute, or relative to the config file's directory
	URL           string        // postgres://… (no password): PostgreSQL instead of Path; "" for SQLite
	Pool          int           // PostgreSQL connections per process; 0: the backend's default
	Keep          time.Duration // 0: keep forever
	KeepPerSource int           // 0: no limit
}

// Poll is the [poll] table.
type Poll struct {
	Interval    time.Duration
	Concurrency int
	PerHost     int
	Timeout     time.Duration
	Lease       time.Duration // how long a claim holds; 0: the aggregator's default (3 × Timeout + 1 min)
	MaxBody     int64
	UserAgent   string // "" → the caller builds the default
}

// Output is the [output] table.
type Output struct {
	Items    int
	MaxItems int
	Cache    int64
}

// Category is one [[category]].
type Category struct {
	Slug        string
	Title       string
	Description string
}

// Source is one [[source]].
type Source struct {
	Name     string
	URL      string // http(s) as written; file:// made absolute
	Category string
	Tags     []string
	Interval time.Duration // the source's own, or [poll] interval
	Include  *regexp.Regexp
	Exclude  *regexp.Regexp
}

// Category returns the category with the given slug.
func (c *Config) Category(slug string) (Category, bool) {
	for _, cat := range c.Categories {
		if cat.Slug == slug {
			return cat, true
		}
	}
	return Category{}, false
}

// Load reads, decodes and validates the config file at path. The error, if
// any, is an Errors listing every problem as "FILE:LINE: message".
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return Parse(path, data)
}

// Parse decodes and validates a config file's contents; path is used in
// messages and to resolve relative paths.
func Parse(path string, data []byte) (*Config, error) {
	var raw rawConfig
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return nil, decodeErrors(path, data, err)
	}
	v := validator{file: path, lines: indexLines(data), dir: filepath.Dir(path)}
	cfg := v.build(&raw)
	if len(v.errs) > 0 {
		return nil, v.errs
	}
	cfg.Path = path
	return cfg, nil
}

// Errors is every problem found in a config file.
type Errors []Error

// Error is one problem at a line of a config file.
type Error struct {
	File string
	Line int // 0: unknown
	Msg  string
}

func (e Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Summary is the one-line description `refeed check` prints for a good config.
func (c *Config) Summary() string {
	return fmt.Sprintf("%s: ok: %d categories, %d sources, listen %s, database %s",
		c.Path, len(c.Categories), len(c.Sources), c.Server.Listen, c.Storage.Path)
}

// DefaultUserAgent is the User-Agent sent when [poll] user_agent is empty.
func (c *Config) DefaultUserAgent(version string) string {
	if c.Poll.UserAgent != "" {
		return c.Poll.UserAgent
	}
	return fmt.Sprintf("refeed/%s (+%s)", version, c.BaseURL)
}

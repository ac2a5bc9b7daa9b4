package config

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
)

var slugRE = regexp.MustCompile(`^[a-z0-9-]+$`)

// validator turns a rawConfig into a Config, collecting every error with its line.
type validator struct {
	file  string
	dir   string
	lines lineIndex
	errs  Errors
}

func (v *validator) errorf(line int, format string, args ...any) {
	v.errs = append(v.errs, Error{File: v.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) build(raw *rawConfig) *Config {
	c := &Config{
		Title:       deref(raw.Title, DefaultTitle),
		Description: raw.Description,
		Timezone:    deref(raw.Timezone, DefaultTimezone),
		Language:    deref(raw.Language, DefaultLanguage),
	}
	c.Server.Listen = deref(raw.Server.Listen, DefaultListen)
	c.Server.WebSubHub = raw.Server.WebSubHub
	c.BaseURL = strings.TrimRight(deref(raw.BaseURL, "http://"+c.Server.Listen), "/")

	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.errorf(v.lines.line("base_url"), "base_url %q must be an absolute http(s) URL", c.BaseURL)
	}
	if c.Server.WebSubHub != "" {
		if u, err := url.Parse(c.Server.WebSubHub); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.errorf(v.lines.line("server.websub_hub"), "server.websub_hub %q must be an absolute http(s) URL", c.Server.WebSubHub)
		}
	}
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		v.errorf(v.lines.line("timezone"), "timezone %q is not a known time zone (use an IANA name such as \"Asia/Shanghai\" or \"UTC\")", c.Timezone)
		loc = time.UTC
	}
	c.Location = loc
	if strings.TrimSpace(c.Language) == "" {
		v.errorf(v.lines.line("language"), "language must not be empty (e.g. \"zh-CN\" or \"en\")")
	}
	if strings.TrimSpace(c.Server.Listen) == "" {
		v.errorf(v.lines.line("server.listen"), "server.listen must not be empty (e.g. \"127.0.0.1:8080\")")
	}

	c.Storage.Path = deref(raw.Storage.Path, DefaultDBPath)
	if c.Storage.Path == "" {
		v.errorf(v.lines.line("storage.path"), "storage.path must not be empty")
	} else if !filepath.IsAbs(c.Storage.Path) {
		c.Storage.Path = filepath.Join(v.dir, c.Storage.Path)
	}
	c.Storage.URL = strings.TrimSpace(raw.Storage.URL)
	if c.Storage.URL != "" {
		v.storageURL(c.Storage.URL)
	}
	c.Storage.Pool = raw.Storage.Pool
	if c.Storage.Pool < 0 || c.Storage.Pool > 1000 {
		v.errorf(v.lines.line("storage.pool"), "storage.pool must be 0 (the default, 10) to 1000, not %d", c.Storage.Pool)
	}
	if raw.Storage.Keep != "" {
		c.Storage.Keep = v.duration("storage.keep", raw.Storage.Keep)
	}
	c.Storage.KeepPerSource = raw.Storage.KeepPerSource
	if c.Storage.KeepPerSource < 0 {
		v.errorf(v.lines.line("storage.keep_per_source"), "storage.keep_per_source must be 0 (no limit) or more, not %d", c.Storage.KeepPerSource)
	}

	c.Poll.Interval = v.duration("poll.interval", deref(raw.Poll.Interval, DefaultInterval))
	c.Poll.Timeout = v.duration("poll.timeout", deref(raw.Poll.Timeout, DefaultTimeout))
	if raw.Poll.Lease != "" {
		c.Poll.Lease = v.duration("poll.lease", raw.Poll.Lease)
		if c.Poll.Lease > 0 && c.Poll.Lease <= 3*c.Poll.Timeout {
			v.errorf(v.lines.line("poll.lease"), "poll.lease (%s) must be more than 3 × poll.timeout (%s): the wait for a worker, the fetch and its save", c.Poll.Lease, c.Poll.Timeout)
		}
	}
	c.Poll.Concurrency = v.positive("poll.concurrency", derefInt(raw.Poll.Concurrency, DefaultConcurrency))
	c.Poll.PerHost = v.positive("poll.per_host", derefInt(raw.Poll.PerHost, DefaultPerHost))
	c.Poll.MaxBody = v.size("poll.max_body", deref(raw.Poll.MaxBody, DefaultMaxBody))
	c.Poll.UserAgent = raw.Poll.UserAgent

	c.Output.Items = v.positive("output.items", derefInt(raw.Output.Items, DefaultItems))
	c.Output.MaxItems = v.positive("output.max_items", derefInt(raw.Output.MaxItems, DefaultMaxItems))
	if c.Output.Items > c.Output.MaxItems && c.Output.MaxItems > 0 {
		v.errorf(v.lines.line("output.items", "output.max_items"), "output.items (%d) must not exceed output.max_items (%d)", c.Output.Items, c.Output.MaxItems)
	}
	c.Output.Cache = v.size("output.cache", deref(raw.Output.Cache, DefaultCache))

	v.categories(c, raw.Category)
	v.sources(c, raw.Source)
	return c
}

func (v *validator) categories(c *Config, raw []rawCategory) {
	seen := map[string]int{}
	for i, rc := range raw {
		at := "category." + strconv.Itoa(i)
		line := v.lines.line(at+".slug", at)
		switch {
		case rc.Slug == "":
			v.errorf(v.lines.line(at), "category: slug is missing")
			continue
		case !slugRE.MatchString(rc.Slug):
			v.errorf(line, "category %q: slug must match [a-z0-9-]+", rc.Slug)
		}
		if prev, dup := seen[rc.Slug]; dup {
			v.errorf(line, "category %q: slug is already used on line %d", rc.Slug, prev)
		}
		seen[rc.Slug] = line
		cat := Category{Slug: rc.Slug, Title: rc.Title, Description: rc.Description}
		if cat.Title == "" {
			cat.Title = rc.Slug
		}
		c.Categories = append(c.Categories, cat)
	}
}

func (v *validator) sources(c *Config, raw []rawSource) {
	seen := map[string]int{}
	for i, rs := range raw {
		at := "source." + strconv.Itoa(i)
		line := v.lines.line(at+".name", at)
		if rs.Name == "" {
			v.errorf(v.lines.line(at), "source: name is missing")
			continue
		}
		if !slugRE.MatchString(rs.Name) {
			v.errorf(line, "source %q: name must match [a-z0-9-]+", rs.Name)
		}
		if prev, dup := seen[rs.Name]; dup {
			v.errorf(line, "source %q: name is already used on line %d", rs.Name, prev)
		}
		seen[rs.Name] = line
		s := Source{Name: rs.Name, Category: rs.Category, Interval: c.Poll.Interval}
		s.URL = v.sourceURL(rs, v.lines.line(at+".url", at))
		cat, ok := c.Category(rs.Category)
		switch {
		case rs.Category == "":
			v.errorf(v.lines.line(at), "source %q: category is missing", rs.Name)
		case !ok:
			v.errorf(v.lines.line(at+".category", at), "source %q: category %q is not defined", rs.Name, rs.Category)
		}
		if rs.Tags != nil {
			for _, t := range *rs.Tags {
				t = strings.TrimSpace(t)
				if t == "" {
					v.errorf(v.lines.line(at+".tags", at), "source %q: tags must not be empty strings", rs.Name)
					continue
				}
				if !slices.Contains(s.Tags, t) {
					s.Tags = append(s.Tags, t)
				}
			}
		} else if ok {
			s.Tags = []string{cat.Title}
		}
		if rs.Interval != "" {
			s.Interval = v.duration(at+".interval", rs.Interval, rs.Name)
		}
		s.Include = v.regexp(at+".include", rs.Name, rs.Include)
		s.Exclude = v.regexp(at+".exclude", rs.Name, rs.Exclude)
		c.Sources = append(c.Sources, s)
	}
}

// sourceURL checks a source URL and makes a relative file:// path absolute
// against the config file's directory.
func (v *validator) sourceURL(rs rawSource, line int) string {
	raw := strings.TrimSpace(rs.URL)
	if raw == "" {
		v.errorf(line, "source %q: url is missing", rs.Name)
		return ""
	}
	if rest, ok := strings.CutPrefix(raw, "file://"); ok {
		if rest == "" {
			v.errorf(line, "source %q: url %q names no file", rs.Name, raw)
			return raw
		}
		if !filepath.IsAbs(rest) {
			abs, err := filepath.Abs(filepath.Join(v.dir, rest))
			if err != nil {
				v.errorf(line, "source %q: url %q: %v", rs.Name, raw, err)
				return raw
			}
			rest = abs
		}
		return (&url.URL{Scheme: "file", Path: filepath.ToSlash(rest)}).String()
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.errorf(line, "source %q: url %q must be http(s):// or file://", rs.Name, raw)
	}
	return raw
}

// duration checks the duration at key; source, if given, names the
// [[source]] it belongs to.
func (v *validator) duration(key, s string, source ...string) time.Duration {
	label := keyLabel(key)
	if len(source) > 0 {
		label = fmt.Sprintf("source %q: %s", source[0], label)
	}
	d, err := ParseDuration(s)
	if err != nil {
		v.errorf(v.lines.line(key), "%s: %v", label, err)
		return 0
	}
	if d <= 0 {
		v.errorf(v.lines.line(key), "%s: duration %q must be positive", label, s)
	}
	return d
}

func (v *validator) size(key, s string) int64 {
	n, err := ParseSize(s)
	if err != nil {
		v.errorf(v.lines.line(key), "%s: %v", keyLabel(key), err)
		return 0
	}
	if n <= 0 {
		v.errorf(v.lines.line(key), "%s: size %q must be positive", keyLabel(key), s)
	}
	return n
}

func (v *validator) positive(key string, n int) int {
	if n <= 0 {
		v.errorf(v.lines.line(key), "%s must be at least 1, not %d", key, n)
	}
	return n
}

func (v *validator) regexp(key, source, expr string) *regexp.Regexp {
	if expr == "" {
		return nil
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		v.errorf(v.lines.line(key), "source %q: %s: %v", source, key[strings.LastIndexByte(key, '.')+1:], err)
		return nil
	}
	return re
}

// keyLabel turns "source.3.interval" into "interval" and keeps "poll.interval".
func keyLabel(key string) string {
	parts := strings.Split(key, ".")
	if len(parts) == 3 {
		return parts[2]
	}
	return key
}

func deref(p *string, def string) string {
	if p == nil {
		return def
	}
	return *p
}

func derefInt(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

// decodeErrors turns go-toml's errors into Errors with lines and hints.
func decodeErrors(file string, data []byte, err error) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		var es Errors
		for _, de := range strict.Errors {
			row, _ := de.Position()
			key := []string(de.Key())
			name := key[len(key)-1]
			parent := ""
			if len(key) > 1 {
				parent = key[len(key)-2]
			}
			msg := fmt.Sprintf("unknown key %q", name)
			if parent != "" {
				msg = fmt.Sprintf("unknown key %q in [%s]", name, parent)
			}
			if hint := suggest(name, knownKeys[parent]); hint != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", hint)
			}
			es = append(es, Error{File: file, Line: row, Msg: msg})
		}
		return es
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, _ := de.Position()
		msg := strings.TrimPrefix(de.Error(), "toml: ")
		if k := de.Key(); len(k) > 0 {
			msg = strings.Join(k, ".") + ": " + msg
		}
		return Errors{{File: file, Line: row, Msg: msg}}
	}
	return Errors{{File: file, Msg: strings.TrimPrefix(err.Error(), "toml: ")}}
}

// suggest returns the known key closest to name, if it is a likely typo.
func suggest(name string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if d := editDistance(name, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// storageURL checks [storage] url: a postgres:// URL without a password
// (libpq's PGPASSWORD or PGPASSFILE give it, as for psql).
func (v *validator) storageURL(raw string) {
	line := v.lines.line("storage.url")
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		v.errorf(line, "storage.url must be a postgres:// URL (SQLite needs only storage.path)")
		return
	}
	if _, ok := u.User.Password(); ok || u.Query().Has("password") {
		v.errorf(line, "storage.url must not hold a password: set PGPASSWORD or a ~/.pgpass line (PGPASSFILE) instead")
	}
}

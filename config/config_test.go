package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const goodConfig = `title = "finews"
base_url = "http://news.example.org/"
timezone = "Asia/Shanghai"
language = "zh-CN"

[poll]
interval = "15m"
max_body = "2MiB"

[[category]]
slug = "zhongguoshuiwubao"
title = "中国税务报新闻"

[[source]]
name = "chinatax"
url = "https://example.org/rss.xml"
category = "zhongguoshuiwubao"

[[source]]
name = "local"
url = "file://samples/a.xml"
category = "zhongguoshuiwubao"
tags = ["税务", "本地"]
interval = "1d"
exclude = "广告"
`

func TestParseGood(t *testing.T) {
	c, err := Parse("/etc/refeed/config.toml", []byte(goodConfig))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"title", c.Title, "finews"},
		{"base_url trimmed", c.BaseURL, "http://news.example.org"},
		{"location", c.Location.String(), "Asia/Shanghai"},
		{"listen default", c.Server.Listen, DefaultListen},
		{"db path relative to config", c.Storage.Path, "/etc/refeed/refeed.db"},
		{"no storage url", c.Storage.URL, ""},
		{"interval", c.Poll.Interval, 15 * time.Minute},
		{"max_body", c.Poll.MaxBody, int64(2 << 20)},
		{"timeout default", c.Poll.Timeout, 30 * time.Second},
		{"concurrency default", c.Poll.Concurrency, 8},
		{"per_host default", c.Poll.PerHost, 2},
		{"items default", c.Output.Items, 50},
		{"cache default", c.Output.Cache, int64(64 << 20)},
		{"tags default to category title", strings.Join(c.Sources[0].Tags, ","), "中国税务报新闻"},
		{"source interval default", c.Sources[0].Interval, 15 * time.Minute},
		{"source interval days", c.Sources[1].Interval, 24 * time.Hour},
		{"file url absolute", c.Sources[1].URL, "file:///etc/refeed/samples/a.xml"},
		{"tags", strings.Join(c.Sources[1].Tags, ","), "税务,本地"},
		{"exclude compiled", c.Sources[1].Exclude != nil, true},
		{"user agent", c.DefaultUserAgent("1.0"), "refeed/1.0 (+http://news.example.org)"},
	}
	for _, tc := range checks {
		if tc.got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	base := "[[category]]\nslug = \"tax\"\n\n"
	tests := []struct {
		name, config, want string
	}{
		{"unknown top key", "titel = \"x\"\n", `c.toml:1: unknown key "titel" (did you mean "title"?)`},
		{"unknown key in table", "[poll]\nintervall = \"1m\"\n", `c.toml:2: unknown key "intervall" in [poll] (did you mean "interval"?)`},
		{"unknown key in source", base + "[[source]]\nname = \"a\"\nurl = \"https://x.org/\"\ncategory = \"tax\"\ncolor = 1\n", `c.toml:8: unknown key "color" in [source]`},
		{"syntax error", "title = \n", `c.toml:1: `},
		{"wrong type", "[poll]\nconcurrency = \"many\"\n", `c.toml:2: poll.concurrency: `},
		{"undefined category", base + "[[source]]\nname = \"chinatax\"\nurl = \"https://x.org/\"\ncategory = \"taxes\"\n", `c.toml:7: source "chinatax": category "taxes" is not defined`},
		{"missing category", base + "[[source]]\nname = \"a\"\nurl = \"https://x.org/\"\n", `c.toml:4: source "a": category is missing`},
		{"duplicate source", base + "[[source]]\nname = \"a\"\nurl = \"https://x.org/\"\ncategory = \"tax\"\n[[source]]\nname = \"a\"\nurl = \"https://y.org/\"\ncategory = \"tax\"\n", `c.toml:9: source "a": name is already used on line 5`},
		{"bad source name", base + "[[source]]\nname = \"Chinatax\"\nurl = \"https://x.org/\"\ncategory = \"tax\"\n", `c.toml:5: source "Chinatax": name must match [a-z0-9-]+`},
		{"bad slug", "[[category]]\nslug = \"Tax News\"\n", `c.toml:2: category "Tax News": slug must match [a-z0-9-]+`},
		{"duplicate slug", "[[category]]\nslug = \"a\"\n[[category]]\nslug = \"a\"\n", `c.toml:4: category "a": slug is already used on line 2`},
		{"bad url scheme", base + "[[source]]\nname = \"a\"\nurl = \"ftp://x.org/\"\ncategory = \"tax\"\n", `c.toml:6: source "a": url "ftp://x.org/" must be http(s):// or file://`},
		{"bad duration", "[poll]\ninterval = \"soon\"\n", `c.toml:2: poll.interval: invalid duration "soon"`},
		{"negative duration", "[poll]\ntimeout = \"-1s\"\n", `c.toml:2: poll.timeout: duration "-1s" must be positive`},
		{"source duration", base + "[[source]]\nname = \"a\"\nurl = \"https://x.org/\"\ncategory = \"tax\"\ninterval = \"7x\"\n", `c.toml:8: source "a": interval: invalid duration "7x"`},
		// Each per-key check names the key's line, not its block's, past
		// comments and other keys.
		{"category line past a comment", base + "[[source]]\nname = \"gamma\"\nurl = \"https://g.example/\"\n# a comment\n\ncategory = \"nope\"\n", `c.toml:9: source "gamma": category "nope" is not defined`},
		{"empty tag", base + "[[source]]\nname = \"a\"\ncategory = \"tax\"\nurl = \"https://x.org/\"\ntags = [\"x\", \"\"]\n", `c.toml:8: source "a": tags must not be empty strings`},
		{"url line", base + "[[source]]\nname = \"a\"\ncategory = \"tax\"\n\nurl = \"gopher://x.org/\"\n", `c.toml:8: source "a": url "gopher://x.org/" must be http(s):// or file://`},
		{"second source's key", base + "[[source]]\nname = \"a\"\nurl = \"https://x.org/\"\ncategory = \"tax\"\n[[source]]\nname = \"b\"\nurl = \"https://y.org/\"\ncategory = \"none\"\n", `c.toml:11: source "b": category "none" is not defined`},
		{"bad size", "[poll]\nmax_body = \"lots\"\n", `c.toml:2: poll.max_body: invalid size "lots"`},
		{"bad regexp", base + "[[source]]\nname = \"a\"\nurl = \"https://x.org/\"\ncategory = \"tax\"\ninclude = \"(\"\n", `c.toml:8: source "a": include: error parsing regexp`},
		{"relative base_url", "base_url = \"/news\"\n", `c.toml:1: base_url "/news" must be an absolute http(s) URL`},
		{"bad timezone", "timezone = \"Mars/Olympus\"\n", `c.toml:1: timezone "Mars/Olympus" is not a known time zone`},
		{"zero concurrency", "[poll]\nconcurrency = 0\n", `c.toml:2: poll.concurrency must be at least 1, not 0`},
		{"items above max", "[output]\nitems = 900\n", `c.toml:2: output.items (900) must not exceed output.max_items (500)`},
		{"bad keep", "[storage]\nkeep = \"forever\"\n", `c.toml:2: storage.keep: invalid duration "forever"`},
		{"storage url not postgres", "[storage]\nurl = \"mysql://db/x\"\n", `c.toml:2: storage.url must be a postgres:// URL (SQLite needs only storage.path)`},
		{"storage url with password", "[storage]\nurl = \"postgres://u:hunter2@db/x\"\n", `c.toml:2: storage.url must not hold a password: set PGPASSWORD or a ~/.pgpass line (PGPASSFILE) instead`},
		{"storage url password param", "[storage]\nurl = \"postgres://u@db/x?password=hunter2\"\n", `c.toml:2: storage.url must not hold a password: set PGPASSWORD or a ~/.pgpass line (PGPASSFILE) instead`},
		{"lease too short", "[poll]\ntimeout = \"10s\"\nlease = \"30s\"\n", `c.toml:3: poll.lease (30s) must be more than 3 × poll.timeout (10s): the wait for a worker, the fetch and its save`},
		{"storage pool", "[storage]\npool = -1\n", `c.toml:2: storage.pool must be 0 (the default, 10) to 1000, not -1`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("c.toml", []byte(tc.config))
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("error %T is not Errors: %v", err, err)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("got  %q\nwant %q…", err.Error(), tc.want)
			}
		})
	}
}

func TestLoadShippedConfig(t *testing.T) {
	path := filepath.Join("..", "config.toml")
	if _, err := os.Stat(path); err != nil {
		t.Skip("no shipped config.toml yet")
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Categories) < 2 || len(c.Sources) < 4 {
		t.Errorf("shipped config has %d categories and %d sources; want at least 2 and 4", len(c.Categories), len(c.Sources))
	}
}

func TestUnits(t *testing.T) {
	durations := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30m", 30 * time.Minute, true}, {"365d", 365 * 24 * time.Hour, true}, {"1.5d", 36 * time.Hour, true},
		{"10s", 10 * time.Second, true}, {"d", 0, false}, {"", 0, false}, {"5 minutes", 0, false},
	}
	for _, tc := range durations {
		got, err := ParseDuration(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
	sizes := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"10MiB", 10 << 20, true}, {"512KiB", 512 << 10, true}, {"1GiB", 1 << 30, true}, {"100B", 100, true},
		{"4096", 4096, true}, {"1 MiB", 1 << 20, true}, {"1MB", 1e6, true}, {"lots", 0, false}, {"-1MiB", 0, false}, {"", 0, false},
	}
	for _, tc := range sizes {
		got, err := ParseSize(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseSize(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

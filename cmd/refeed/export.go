package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/refeed/refeed/config"
	"github.com/refeed/refeed/feeds"
	"github.com/refeed/refeed/storage"
)

// exportPostFile matches the files export writes under _posts, so files a
// user added by hand are never removed.
var exportPostFile = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}-[0-9a-f]{16}\.md$`)

func exportSetup(fs *flag.FlagSet) runFunc {
	out := fs.String("out", "", "write the Jekyll site into `DIR` (required)")
	category := fs.String("category", "", "export only the category with this `SLUG`")
	since := fs.String("since", "", "export only posts published on or after `DATE` (2006-01-02, site timezone)")
	return func(ctx context.Context, e *env, fs *flag.FlagSet, args []string) int {
		if !e.noArgs(fs, args) {
			return exitUsage
		}
		if *out == "" {
			fmt.Fprintln(e.stderr, "refeed export jekyll: -out DIR is required")
			fs.Usage()
			return exitUsage
		}
		cfg, ok := e.loadConfig()
		if !ok {
			return exitUsage
		}
		var from time.Time
		if *since != "" {
			t, err := time.ParseInLocation("2006-01-02", *since, cfg.Location)
			if err != nil {
				fmt.Fprintf(e.stderr, "refeed export jekyll: -since %q: use a date such as 2022-05-06\n", *since)
				return exitUsage
			}
			from = t
		}
		if *category != "" {
			if _, ok := cfg.Category(*category); !ok {
				fmt.Fprintf(e.stderr, "refeed export jekyll: -category %q is not defined in %s\n", *category, cfg.Path)
				return exitUsage
			}
		}
		st, ok := e.openStore(ctx, cfg, "export")
		if !ok {
			return exitUsage
		}
		defer e.closeStore(st)
		res, err := exportJekyll(ctx, st, cfg, *out, *category, from)
		if err != nil {
			e.log.Error("export", "out", *out, "error", err)
			return exitPartial
		}
		fmt.Fprintf(e.stdout, "exported %d posts to %s: %d written, %d unchanged, %d removed\n",
			res.posts, *out, res.written, res.posts-res.written, res.removed)
		return exitOK
	}
}

type exportResult struct{ posts, written, removed int }

// exportJekyll writes every selected post and the category pages into dir,
// rewriting only files whose bytes changed and removing post files of posts
// that are gone or filtered out.
func exportJekyll(ctx context.Context, st interface {
	Posts(context.Context, storage.Query) (storage.Page, error)
}, cfg *config.Config, dir, category string, since time.Time) (exportResult, error) {
	var res exportResult
	s := site(cfg)
	keep := map[string]bool{}
	var buf bytes.Buffer
	for _, c := range cfg.Categories {
		if category != "" && c.Slug != category {
			continue
		}
		buf.Reset()
		if err := feeds.JekyllCategoryPage(&buf, s, c.Slug, c.Title); err != nil {
			return res, err
		}
		if _, err := writeIfChanged(filepath.Join(dir, feeds.JekyllCategoryPath(c.Slug)), buf.Bytes()); err != nil {
			return res, err
		}
	}
	q := storage.Query{Category: category, Limit: 500}
	for {
		page, err := st.Posts(ctx, q)
		if err != nil {
			return res, fmt.Errorf("list posts: %w", err)
		}
		for _, p := range page.Posts {
			if !since.IsZero() && p.Published.Before(since) {
				continue
			}
			slug := category
			if slug == "" && len(p.Categories) > 0 {
				slug = p.Categories[0]
			}
			title := slug
			if c, ok := cfg.Category(slug); ok {
				title = c.Title
			}
			buf.Reset()
			if err := feeds.Jekyll(&buf, s, p, slug, title); err != nil {
				return res, fmt.Errorf("post %s: %w", p.ID, err)
			}
			rel := feeds.JekyllPath(p, cfg.Location)
			keep[filepath.Base(rel)] = true
			changed, err := writeIfChanged(filepath.Join(dir, rel), buf.Bytes())
			if err != nil {
				return res, err
			}
			res.posts++
			if changed {
				res.written++
			}
		}
		if page.Next == nil {
			break
		}
		q.Before = page.Next
	}
	entries, err := os.ReadDir(filepath.Join(dir, "_posts"))
	if err != nil && !os.IsNotExist(err) {
		return res, fmt.Errorf("read _posts: %w", err)
	}
	for _, ent := range entries {
		if ent.IsDir() || keep[ent.Name()] || !exportPostFile.MatchString(ent.Name()) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, "_posts", ent.Name())); err != nil {
			return res, fmt.Errorf("remove stale post: %w", err)
		}
		res.removed++
	}
	return res, nil
}

// writeIfChanged writes data to path atomically unless the file already
// holds exactly data (so its mtime stays).
func writeIfChanged(path string, data []byte) (bool, error) {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return false, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return false, fmt.Errorf("export: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".refeed-*")
	if err != nil {
		return false, fmt.Errorf("export: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return false, fmt.Errorf("export: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return false, fmt.Errorf("export: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return false, fmt.Errorf("export: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return false, fmt.Errorf("export: %w", err)
	}
	return true, nil
}

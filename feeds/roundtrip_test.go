package feeds

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/refeed/refeed/internal/conformance"
)

// TestRoundTrip renders each format, parses it back with gofeed (what the
// aggregator itself reads) and checks ids, titles, links, dates, categories,
// enclosures and paging links survive.
func TestRoundTrip(t *testing.T) {
	for _, fm := range formats {
		t.Run(fm.name, func(t *testing.T) {
			f := testFeed(fm.ext)
			parsed, err := gofeed.NewParser().Parse(bytes.NewReader(render(t, fm.render, f)))
			if err != nil {
				t.Fatalf("gofeed: %v", err)
			}
			if parsed.Title != f.Title {
				t.Errorf("feed title = %q, want %q", parsed.Title, f.Title)
			}
			if parsed.Language != f.Site.Language {
				t.Errorf("language = %q, want %q", parsed.Language, f.Site.Language)
			}
			if !slices.Contains(parsed.Links, f.HTMLURL) && parsed.Link != f.HTMLURL {
				t.Errorf("feed links %q lack %q", parsed.Links, f.HTMLURL)
			}
			if fm.ext == "json" {
				if parsed.FeedLink != f.SelfURL {
					t.Errorf("feed_url = %q, want %q", parsed.FeedLink, f.SelfURL)
				}
			}
			if len(parsed.Items) != len(f.Posts) {
				t.Fatalf("%d items, want %d", len(parsed.Items), len(f.Posts))
			}
			for i, it := range parsed.Items {
				p := &f.Posts[i]
				if want := PostURL(f.Site.BaseURL, p.ID); it.GUID != want {
					t.Errorf("item %d id = %q, want %q", i, it.GUID, want)
				}
				if it.Title != p.Title {
					t.Errorf("item %d title = %q, want %q", i, it.Title, p.Title)
				}
				if want := f.itemLink(p); it.Link != want {
					t.Errorf("item %d link = %q, want %q", i, it.Link, want)
				}
				if it.PublishedParsed == nil || !it.PublishedParsed.Equal(postPublished(p)) {
					t.Errorf("item %d published = %v, want %v", i, it.PublishedParsed, postPublished(p))
				}
				if fm.ext != "rss" && (it.UpdatedParsed == nil || !it.UpdatedParsed.Equal(postUpdated(p))) {
					t.Errorf("item %d updated = %v, want %v", i, it.UpdatedParsed, postUpdated(p))
				}
				if want := categoryNames(f.categories(p)); !slices.Equal(it.Categories, want) {
					t.Errorf("item %d categories = %q, want %q", i, it.Categories, want)
				}
				if p.Author != "" {
					author := it.Author
					if author == nil && len(it.Authors) > 0 {
						author = it.Authors[0] // JSON Feed 1.1 authors[]
					}
					if author == nil || author.Name != p.Author {
						t.Errorf("item %d author = %+v, want %q", i, author, p.Author)
					}
				}
				encs := enclosures(p)
				if fm.ext == "rss" && len(encs) > 1 {
					encs = encs[:1]
				}
				if len(it.Enclosures) != len(encs) {
					t.Errorf("item %d has %d enclosures, want %d", i, len(it.Enclosures), len(encs))
				} else {
					for j, e := range it.Enclosures {
						if e.URL != encs[j].URL || e.Type != encs[j].Type {
							t.Errorf("item %d enclosure %d = %+v, want %+v", i, j, e, encs[j])
						}
					}
				}
				if want := body(p); want != "" {
					got := it.Content
					if got == "" {
						got = it.Description
					}
					if got != want {
						t.Errorf("item %d content = %q, want %q", i, got, want)
					}
				}
			}
		})
	}
}

// TestEmptyFeedParses: a feed with no posts is still a valid document.
func TestEmptyFeedParses(t *testing.T) {
	for _, fm := range formats {
		t.Run(fm.name, func(t *testing.T) {
			parsed, err := gofeed.NewParser().Parse(bytes.NewReader(render(t, fm.render, emptyFeed(fm.ext))))
			if err != nil {
				t.Fatalf("gofeed: %v", err)
			}
			if len(parsed.Items) != 0 || parsed.Title != "Planet Empty" {
				t.Errorf("got %d items, title %q", len(parsed.Items), parsed.Title)
			}
		})
	}
}

// TestConformance runs the project's external validator (RELAX NG via jing,
// RSS and JSON Feed rules, feedparser) over the rendered feeds when it is
// installed, and wants no errors and no warnings.
func TestConformance(t *testing.T) {
	checker := conformance.CheckFeed(t)
	dir := t.TempDir()
	for _, fm := range formats {
		for name, f := range map[string]Feed{"category": testFeed(fm.ext), "empty": emptyFeed(fm.ext), "nohub": noHubFeed(fm.ext)} {
			t.Run(name+"."+fm.ext, func(t *testing.T) {
				path := filepath.Join(dir, name+"."+fm.ext)
				if err := os.WriteFile(path, render(t, fm.render, f), 0o644); err != nil {
					t.Fatal(err)
				}
				out, err := exec.Command("/usr/bin/python3", checker, path, "--expect-format", fm.ext).CombinedOutput()
				if err != nil || !bytes.Contains(out, []byte(" 0 errors, 0 warnings")) {
					t.Errorf("check-feed %s: %v\n%s", name, err, out)
				}
			})
		}
	}
}

// noHubFeed is the second page of a feed with no hub, language or
// generator, whose posts have neither content nor sources.
func noHubFeed(ext string) Feed {
	f := testFeed(ext)
	f.Site.Hub, f.Site.Language, f.Site.Generator, f.Site.Description = "", "", "", ""
	f.Description, f.NextURL, f.HTMLURL = "", "", ""
	f.Sources, f.Categories = nil, nil
	f.Updated = time.Date(2023, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range f.Posts {
		f.Posts[i].Content, f.Posts[i].Summary, f.Posts[i].Title = "", "", ""
	}
	return f
}

// TestSchema validates the Atom output against RFC 4287's RELAX NG schema
// with jing, and every XML output's well-formedness with xmllint, when those
// tools are installed.
func TestSchema(t *testing.T) {
	const rnc = "/work/shared/conformance/atom.rnc"
	jing, jerr := exec.LookPath("jing")
	xmllint, xerr := exec.LookPath("xmllint")
	if jerr != nil && xerr != nil {
		t.Skip("neither jing nor xmllint installed")
	}
	dir := t.TempDir()
	for _, fm := range formats[:2] {
		for name, f := range map[string]Feed{"category": testFeed(fm.ext), "empty": emptyFeed(fm.ext), "nohub": noHubFeed(fm.ext)} {
			path := filepath.Join(dir, name+"."+fm.ext)
			if err := os.WriteFile(path, render(t, fm.render, f), 0o644); err != nil {
				t.Fatal(err)
			}
			if xerr == nil {
				if out, err := exec.Command(xmllint, "--noout", path).CombinedOutput(); err != nil {
					t.Errorf("xmllint %s: %v\n%s", path, err, out)
				}
			}
			if _, err := os.Stat(rnc); jerr == nil && err == nil && fm.ext == "atom" {
				if out, err := exec.Command(jing, "-c", rnc, path).CombinedOutput(); err != nil {
					t.Errorf("jing %s: %v\n%s", path, err, out)
				}
			}
		}
	}
}

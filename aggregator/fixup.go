package aggregator

import (
	"html"
	"strings"

	"github.com/mmcdole/gofeed"
	ext "github.com/mmcdole/gofeed/extensions"
	"github.com/mmcdole/gofeed/rss"
)

// fixup fills in what gofeed's translation leaves out but other feed
// readers find, between parse and normalise:
//   - an RSS item without a <link> links to its <guid> when that is a
//     permalink (isPermaLink="true" or, as RSS 2.0 says, no attribute) and
//     an http(s) URL;
//   - an item without a title, description or content takes them from its
//     Media RSS elements (media:title, media:description, also inside
//     media:group), as YouTube's feeds carry them.
func fixup(feed *gofeed.Feed) {
	if f, ok := feed.OriginalFeed().(*rss.Feed); ok && f != nil && len(f.Items) == len(feed.Items) {
		for i, ri := range f.Items {
			it := feed.Items[i]
			if it == nil || ri == nil || ri.GUID == nil || strings.TrimSpace(it.Link) != "" || len(it.Links) > 0 {
				continue
			}
			// An absolute GUID; the normaliser keeps it only if it is http(s).
			if _, err := parseAbs(strings.TrimSpace(ri.GUID.Value)); err == nil &&
				!strings.EqualFold(strings.TrimSpace(ri.GUID.IsPermalink), "false") {
				it.Link = strings.TrimSpace(ri.GUID.Value)
			}
		}
	}
	for _, it := range feed.Items {
		if it == nil {
			continue
		}
		media := it.Extensions["media"]
		if media == nil {
			continue
		}
		if strings.TrimSpace(it.Title) == "" {
			it.Title = mediaText(media, "title", false)
		}
		if strings.TrimSpace(it.Description) == "" && strings.TrimSpace(it.Content) == "" {
			it.Description = mediaText(media, "description", true)
		}
	}
}

// mediaText is the Media RSS element name of an item, or of its
// media:group. Plain text (type="plain", the default) is escaped when the
// caller wants HTML.
func mediaText(media map[string][]ext.Extension, name string, asHTML bool) string {
	find := func(m map[string][]ext.Extension) (ext.Extension, bool) {
		for _, e := range m[name] {
			if strings.TrimSpace(e.Value) != "" {
				return e, true
			}
		}
		return ext.Extension{}, false
	}
	e, ok := find(media)
	if !ok {
		for _, g := range media["group"] {
			if e, ok = find(g.Children); ok {
				break
			}
		}
	}
	if !ok {
		return ""
	}
	v := strings.TrimSpace(e.Value)
	if asHTML && !strings.EqualFold(e.Attrs["type"], "html") {
		return strings.ReplaceAll(html.EscapeString(v), "\n", "<br>")
	}
	return v // a title is made plain text by the normaliser either way
}

package aggregator

import (
	"fmt"
	"github.com/refeed/refeed/storage/htmltext"
	"html"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"
	ext "github.com/mmcdole/gofeed/extensions"

	"github.com/refeed/refeed/aggregator/sanitize"
	"github.com/refeed/refeed/storage"
)

// titleRunes is how much of the text stands in for a missing title.
const titleRunes = 60

// futureSlack is how far in the future a date may be before it is clamped.
const futureSlack = 24 * time.Hour

// zoneAfterTime finds what follows the time of day in a date: a numeric
// offset, "Z" or a zone name (group 1). AM/PM markers are skipped by the caller.
var zoneAfterTime = regexp.MustCompile(`(?i)\d:\d{2}(?::\d{2})?(?:[.,]\d+)?\s*(?:(?:am|pm|a\.m\.|p\.m\.)\s*)?([+-]\d|z\b|[a-z]{1,5}\b)`)

// hasZone reports whether date text names its zone. Text without a time of
// day (a bare date) has none.
func hasZone(raw string) bool {
	for _, m := range zoneAfterTime.FindAllStringSubmatch(raw, -1) {
		switch strings.ToLower(m[1]) {
		case "am", "pm", "a", "p":
			continue
		}
		return true
	}
	return false
}

// normaliser turns one parsed feed into storage posts.
type normaliser struct {
	src  Source
	base *url.URL // the feed's URL: the fallback base for relative links
	now  time.Time
	loc  *time.Location
}

// normalise converts feed's items (the first MaxItems) into posts for src:
// identity keys, absolute links, plain-text titles, sanitised content,
// dates fixed up, filters applied and duplicate keys dropped (first wins).
// Categories and tags are left to storage, which knows the source config.
// An item whose GUID does not identify it (sharedGUIDs) is identified by its
// link instead, or by its content hash when other items share that link
// too, so that no item is lost; byLink reports that some were.
func normalise(feed *gofeed.Feed, src Source, feedURL string, now time.Time, loc *time.Location) (posts []storage.Post, byLink bool) {
	n := normaliser{src: src, now: now, loc: loc}
	if u, err := url.Parse(feedURL); err == nil && u.IsAbs() {
		n.base = u
	}
	items := feed.Items
	if len(items) > MaxItems {
		items = items[:MaxItems]
	}
	all := make([]storage.Post, 0, len(items))
	for _, it := range items {
		if it == nil {
			continue
		}
		if p, ok := n.post(it); ok {
			all = append(all, p)
		}
	}
	if shared := sharedGUIDs(all, feed.Link, feedURL); len(shared) > 0 {
		byLink = true
		links := make(map[string]int, len(all))
		for _, p := range all {
			links[p.Link]++
		}
		for i := range all {
			p := &all[i]
			if !shared[p.GUID] {
				continue
			}
			if links[p.Link] > 1 {
				p.Key = "hash:" + p.Hash // the link is shared too: the content tells them apart
			} else {
				p.Key = keyOf(p, false)
			}
			p.ID = storage.PostID(src.Name, p.Key)
		}
	}
	posts = all[:0]
	seen := make(map[string]bool, len(all))
	for _, p := range all {
		if seen[p.Key] {
			continue
		}
		seen[p.Key] = true
		posts = append(posts, p)
	}
	return posts, byLink
}

// sharedGUIDs returns the GUIDs of a fetch that do not identify an item:
// those two items share (some CMSs give every item the same one, or an
// empty-looking one), and those that are the channel's link or the feed's
// URL.
func sharedGUIDs(posts []storage.Post, channelLink, feedURL string) map[string]bool {
	count := make(map[string]int, len(posts))
	for _, p := range posts {
		if p.GUID != "" {
			count[p.GUID]++
		}
	}
	var shared map[string]bool
	for g, n := range count {
		if n > 1 || g == channelLink || g == feedURL {
			if shared == nil {
				shared = make(map[string]bool)
			}
			shared[g] = true
		}
	}
	return shared
}

// keyOf is a post's identity key within its source: its GUID (unless the
// feed's GUIDs are not to be trusted), else its link, else its content hash.
func keyOf(p *storage.Post, guids bool) string {
	switch {
	case guids && p.GUID != "":
		return "guid:" + p.GUID
	case p.Link != "":
		return "link:" + p.Link
	default:
		return "hash:" + p.Hash
	}
}

// post converts one item; ok is false when the filters drop it.
func (n normaliser) post(it *gofeed.Item) (storage.Post, bool) {
	if xb := n.xmlBase(it); xb != nil {
		n.base = xb // the item's own base, for its link and its content
	}
	link := n.link(it)
	base := n.base
	if u, err := url.Parse(link); err == nil && u.IsAbs() && it.Custom[xmlBaseKey] == "" {
		base = u
	}

	content, summary := it.Content, it.Description
	if len(strings.TrimSpace(content)) < len(strings.TrimSpace(summary)) {
		content, summary = summary, content
	}
	if strings.TrimSpace(summary) == strings.TrimSpace(content) {
		summary = "" // the same markup twice: sanitise it once
	}
	// The summary first: its text says how much of the content's text the
	// comparison below needs, and collecting all of an article's text just
	// to compare its first sentence costs as much as sanitising it.
	plainSummary := !strings.ContainsAny(summary, "<&")
	var summaryText string
	switch {
	case summary == "":
	case plainSummary:
		summaryText = htmltext.Text(summary)
	default:
		summary, summaryText = sanitize.HTMLText(summary, base, -1)
	}
	title := htmltext.Text(it.Title)
	content, text := sanitize.HTMLText(content, base, n.textNeeded(title, summary, summaryText))
	switch {
	case summary == "":
	case isLead(summaryText, text):
		summary = "" // the same text twice, or its beginning, says nothing
	case plainSummary:
		summary = sanitize.HTML(summary, base)
	}
	if title == "" {
		title = truncateRunes(text, titleRunes)
	}
	if !n.keep(title, text) {
		return storage.Post{}, false
	}

	p := storage.Post{
		GUID:      strings.TrimSpace(it.GUID),
		Link:      link,
		Title:     title,
		Content:   content,
		Summary:   summary,
		Author:    author(it),
		Image:     n.image(it, base, content),
		FirstSeen: n.now,
		Sources:   []string{n.src.Name},
	}
	p.Hash = storage.ContentHash(title, content)
	p.Enclosures = n.enclosures(it, base)
	p.Published, p.Updated = n.dates(it)
	p.Key = keyOf(&p, true)
	p.ID = storage.PostID(n.src.Name, p.Key)
	return p, true
}

// textNeeded is how much of the content's plain text (in bytes) post needs:
// all of it for the source's filters; otherwise enough to stand in for a
// missing title and to tell whether the summary is the text's beginning.
// (See sanitize.HTMLText: a prefix of at least that many bytes.)
func (n normaliser) textNeeded(title, summary, summaryText string) int {
	if n.src.Include != nil || n.src.Exclude != nil {
		return -1
	}
	need := 0
	if title == "" {
		// One rune more than a title takes, so that truncateRunes sees
		// that there is more.
		need = (titleRunes + 1) * utf8.UTFMax
	}
	if summary != "" {
		// isLead compares no further: a text cut there that equals the
		// summary starts with it, and so does the whole text.
		need = max(need, len(summaryText))
	}
	return need
}

// isLead reports whether summary, plain text, is text or its beginning,
// perhaps cut with an ellipsis: a summary that adds nothing to the content.
func isLead(summary, text string) bool {
	if summary == text {
		return true
	}
	lead := strings.TrimRight(summary, ".…[] ")
	return lead != "" && strings.HasPrefix(text, lead)
}

// keep applies the source's include and exclude filters to the title and
// text (matched as title + " " + text).
func (n normaliser) keep(title, text string) bool {
	if n.src.Include == nil && n.src.Exclude == nil {
		return true
	}
	text = title + " " + text
	if n.src.Include != nil && !n.src.Include.MatchString(text) {
		return false
	}
	if n.src.Exclude != nil && n.src.Exclude.MatchString(text) {
		return false
	}
	return true
}

// link returns the item's link made absolute and canonical (scheme and host
// lower-cased, fragment dropped), or "" when it has none usable.
// xmlBase is the item's xml:base (fixRSSXML) resolved against the feed's
// URL, or nil.
func (n normaliser) xmlBase(it *gofeed.Item) *url.URL {
	raw := it.Custom[xmlBaseKey]
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	if n.base != nil {
		u = n.base.ResolveReference(u)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil
	}
	return u
}

func (n normaliser) link(it *gofeed.Item) string {
	raw := strings.TrimSpace(it.Link)
	if raw == "" && len(it.Links) > 0 {
		raw = strings.TrimSpace(it.Links[0])
	}
	return n.absolute(raw, n.base, true)
}

// absolute resolves raw against base and keeps it only if it is http(s).
func (n normaliser) absolute(raw string, base *url.URL, dropFragment bool) string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "http" && u.Scheme != "https" {
		return ""
	}
	u.Host = strings.ToLower(u.Host)
	if dropFragment {
		u.Fragment, u.RawFragment = "", ""
	}
	return u.String()
}

func author(it *gofeed.Item) string {
	for _, a := range it.Authors {
		if a == nil {
			continue
		}
		if s := htmltext.Text(a.Name); s != "" {
			return s
		}
		if s := htmltext.Text(a.Email); s != "" {
			return s
		}
	}
	return ""
}

// image is the item's lead image: gofeed's pick (itunes:image, media:content,
// an image enclosure), else media:thumbnail, else the first img of the
// sanitised content.
func (n normaliser) image(it *gofeed.Item, base *url.URL, content string) string {
	if it.Image != nil {
		if u := n.absolute(it.Image.URL, base, false); u != "" {
			return u
		}
	}
	for _, m := range mediaElements(it.Extensions, "thumbnail") {
		if u := n.absolute(m.Attrs["url"], base, false); u != "" {
			return u
		}
	}
	if m := firstImg.FindStringSubmatch(content); m != nil {
		return n.absolute(html.UnescapeString(m[1]), base, false)
	}
	return ""
}

// firstImg finds the first img src in sanitised HTML, whose attributes are
// always double-quoted.
var firstImg = regexp.MustCompile(`<img\s[^>]*?\bsrc="([^"]+)"`)

// enclosures are the item's enclosures plus its media:content files.
func (n normaliser) enclosures(it *gofeed.Item, base *url.URL) []storage.Enclosure {
	var out []storage.Enclosure
	seen := map[string]bool{}
	add := func(raw, typ, length string) {
		u := n.absolute(raw, base, false)
		if u == "" || seen[u] {
			return
		}
		seen[u] = true
		l, _ := strconv.ParseInt(strings.TrimSpace(length), 10, 64)
		out = append(out, storage.Enclosure{URL: u, Type: strings.TrimSpace(typ), Length: max(l, 0)})
	}
	for _, e := range it.Enclosures {
		if e != nil {
			add(e.URL, e.Type, e.Length)
		}
	}
	for _, m := range mediaElements(it.Extensions, "content") {
		add(m.Attrs["url"], m.Attrs["type"], m.Attrs["fileSize"])
	}
	return out
}

// mediaElements returns the Media RSS elements called name, including those
// inside media:group.
func mediaElements(exts ext.Extensions, name string) []ext.Extension {
	media := exts["media"]
	if media == nil {
		return nil
	}
	out := append([]ext.Extension(nil), media[name]...)
	for _, g := range media["group"] {
		out = append(out, g.Children[name]...)
	}
	return out
}

// dates returns the item's published and updated times. A missing date is
// the time first seen, as is one more than a day in the future.
func (n normaliser) dates(it *gofeed.Item) (published, updated time.Time) {
	pub := n.date(it.PublishedParsed, it.Published)
	upd := n.date(it.UpdatedParsed, it.Updated)
	if pub.IsZero() {
		pub = upd
	}
	if pub.IsZero() {
		pub = n.now
	}
	if upd.IsZero() || upd.Before(pub) {
		upd = pub
	}
	return pub.UTC(), upd.UTC() // one zone in storage; display picks the site's
}

// date fixes up one parsed date. gofeed parses a date whose text has no zone
// as UTC (and converts every RSS and Atom date to UTC, so the location says
// nothing). The raw text tells: when nothing after the time of day names a
// zone (hasZone), the parsed UTC wall clock is re-read in the configured zone.
func (n normaliser) date(parsed *time.Time, raw string) time.Time {
	if parsed == nil || parsed.IsZero() {
		return time.Time{}
	}
	t := *parsed
	if !hasZone(raw) {
		t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), n.loc)
	}
	if t.After(n.now.Add(futureSlack)) {
		return n.now
	}
	return t
}

// truncateRunes cuts s to at most n runes, adding "…" when it cuts.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n {
			return strings.TrimSpace(s[:j]) + "…"
		}
		i++
	}
	return s
}

// plainTitle is a feed or item title as plain text.
func plainTitle(s string) string { return htmltext.Text(s) }

// parseAbs parses an absolute URL.
func parseAbs(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	if !u.IsAbs() {
		return nil, fmt.Errorf("not absolute: %q", s)
	}
	return u, nil
}

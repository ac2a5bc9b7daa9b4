package aggregator

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"
	ext "github.com/mmcdole/gofeed/extensions"
	"github.com/mmcdole/gofeed/rss"
)

// maxHint caps how far a feed's own hints (ttl, sy:updatePeriod,
// Cache-Control, Retry-After) can push the next poll.
const maxHint = 24 * time.Hour

// parse turns UTF-8 feed bytes into a gofeed.Feed. A document that is not
// RSS, Atom or JSON Feed (an HTML page, say) is ErrNotAFeed (class
// not_a_feed); a broken feed is class parse.
//
// gofeed parses XML with encoding/xml, which expands only the five predefined
// entities and numeric references: a custom-entity bomb ("billion laughs") is
// never expanded, so it costs no more than its own bytes (see the test).
func parse(body []byte) (*gofeed.Feed, error) {
	p := gofeed.NewParser()
	p.KeepOriginalFeed = true // for RSS <ttl>
	// The lead image is picked in normalise, from the sanitised content.
	p.RSSTranslator = &gofeed.DefaultRSSTranslator{DisableContentImageScan: true}
	feed, err := p.Parse(bytes.NewReader(body))
	if err != nil {
		if errors.Is(err, gofeed.ErrFeedTypeNotDetected) {
			return nil, fmt.Errorf("%w: %s", ErrNotAFeed, describe(body))
		}
		return nil, withClass(ClassParse, fmt.Errorf("parse feed: %w", err))
	}
	fixAtomText(feed, body)
	fixRSSXML(feed, body)
	fixup(feed)
	return feed, nil
}

// describe names what a non-feed body looks like, for the log line.
func describe(body []byte) string {
	head := strings.ToLower(string(body[:min(len(body), 512)]))
	switch {
	case len(bytes.TrimSpace(body)) == 0:
		return "empty body"
	case strings.Contains(head, "<html") || strings.Contains(head, "<!doctype html"):
		return "got an HTML page"
	}
	return "no rss, feed or json root"
}

// feedHint is the lower bound a feed sets on its own polling interval: RSS
// <ttl> (minutes) or sy:updatePeriod / sy:updateFrequency, capped at maxHint.
func feedHint(feed *gofeed.Feed) time.Duration {
	var d time.Duration
	if f, ok := feed.OriginalFeed().(*rss.Feed); ok && f != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(f.TTL)); err == nil && n > 0 {
			d = time.Duration(n) * time.Minute
		}
	}
	if sy, ok := feed.Extensions["sy"]; ok {
		var period time.Duration
		if v := extValue(sy, "updatePeriod"); v != "" {
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "hourly":
				period = time.Hour
			case "daily":
				period = 24 * time.Hour
			case "weekly":
				period = 7 * 24 * time.Hour
			case "monthly":
				period = 30 * 24 * time.Hour
			case "yearly":
				period = 365 * 24 * time.Hour
			}
		}
		if period > 0 {
			freq := 1
			if n, err := strconv.Atoi(strings.TrimSpace(extValue(sy, "updateFrequency"))); err == nil && n > 0 {
				freq = n
			}
			if p := period / time.Duration(freq); p > d {
				d = p
			}
		}
	}
	return min(d, maxHint)
}

func extValue(m map[string][]ext.Extension, name string) string {
	if v := m[name]; len(v) > 0 {
		return v[0].Value
	}
	return ""
}

package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// hubTimeout bounds one WebSub publish ping.
const hubTimeout = 10 * time.Second

// Topics lists the absolute URLs of every feed the server publishes: the
// site, each category, tag and source, in each format.
func (s *Server) Topics() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	base := s.opts.Site.BaseURL
	var paths []string
	add := func(l listing) {
		for _, ext := range []string{"rss", "atom", "json"} {
			paths = append(paths, base+l.path(ext))
		}
	}
	add(listing{kind: kindSite})
	for _, c := range s.opts.Categories {
		add(listing{kind: kindCategory, name: c.Slug})
	}
	for _, t := range sortedKeys(s.tags) {
		add(listing{kind: kindTag, name: t})
	}
	for _, src := range s.opts.Sources {
		add(listing{kind: kindSource, name: src.Name})
	}
	return paths
}

// PingHub tells the configured WebSub hub that the feeds changed
// (hub.mode=publish, one hub.url per topic). It does nothing without a hub.
func (s *Server) PingHub(ctx context.Context, client *http.Client) error {
	hub := s.options().Site.Hub
	if hub == "" {
		return nil
	}
	form := url.Values{"hub.mode": {"publish"}}
	for _, t := range s.Topics() {
		form.Add("hub.url", t)
	}
	ctx, cancel := context.WithTimeout(ctx, hubTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hub, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("websub ping %s: %w", hub, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("websub ping %s: %w", hub, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("websub ping %s: hub answered %s", hub, resp.Status)
	}
	return nil
}

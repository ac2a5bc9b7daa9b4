package server

import (
	"bytes"
	"net/http"
	"time"

	"github.com/refeed/refeed/opml"
	"github.com/refeed/refeed/storage"
)

// OPML builds the sources document: one group per category, in config order.
func OPML(title string, cats []Category, srcs []storage.Source) opml.Document {
	d := opml.Document{Title: title}
	for _, c := range cats {
		g := opml.Group{Title: c.Title}
		for _, src := range srcs {
			if src.Category != c.Slug {
				continue
			}
			t := src.State.Title
			if t == "" {
				t = src.Name
			}
			g.Feeds = append(g.Feeds, opml.Feed{Title: t, XMLURL: src.URL, HTMLURL: src.State.SiteURL})
		}
		d.Groups = append(d.Groups, g)
	}
	return d
}

func (s *Server) handleOPML(w http.ResponseWriter, r *http.Request) {
	opts := s.options()
	byName, err := s.sourcesByName(r.Context()) // shared with renders: no post counting per request
	if err != nil {
		s.fail(w, r, err)
		return
	}
	srcs := make([]storage.Source, 0, len(byName))
	for _, name := range sortedKeys(byName) {
		srcs = append(srcs, byName[name])
	}
	var buf bytes.Buffer
	if err := opml.Write(&buf, OPML(opts.Site.Title, opts.Categories, srcs)); err != nil {
		s.fail(w, r, err)
		return
	}
	s.newEntity(buf.Bytes(), ctypeOPML, time.Time{}, s.maxAge(opts, nil)).write(w, r)
}

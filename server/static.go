package server

import (
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"time"

	"github.com/refeed/refeed/feeds"
)

// assetMaxAge is how long browsers may keep embedded assets.
const assetMaxAge = 86400

// loadAssets prepares every embedded static file as an entity, once.
func loadAssets() (map[string]*entity, error) {
	assets := map[string]*entity{}
	fsys := feeds.Assets()
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		ctype := mime.TypeByExtension(path.Ext(p))
		switch path.Ext(p) {
		case ".css":
			ctype = "text/css; charset=utf-8"
		case ".svg":
			ctype = "image/svg+xml"
		}
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		assets[path.Base(p)] = makeEntity(nil, b, ctype, time.Time{}, assetMaxAge)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load assets: %w", err)
	}
	return assets, nil
}

func (s *Server) handleStatic(w http.ResponseWriter, r *http.Request) {
	e, ok := s.assets[r.PathValue("file")]
	if !ok {
		s.fail(w, r, errNotFound("no such file"))
		return
	}
	e.write(w, r)
}

func (s *Server) handleFavicon(w http.ResponseWriter, r *http.Request) {
	e, ok := s.assets["icon.svg"]
	if !ok {
		s.fail(w, r, errNotFound("no favicon"))
		return
	}
	e.write(w, r)
}

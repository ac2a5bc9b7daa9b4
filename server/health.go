package server

import (
	"encoding/json"
	"net/http"
	"time"
)

// healthSource is one source in /healthz.
type healthSource struct {
	Name        string     `json:"name"`
	URL         string     `json:"url"`
	ConfigURL   string     `json:"config_url,omitempty"` // set when a permanent redirect moved the source
	Status      string     `json:"status"`
	LastPoll    *time.Time `json:"last_poll"`
	LastSuccess *time.Time `json:"last_success"`
	NextPoll    *time.Time `json:"next_poll"`
	ErrorClass  string     `json:"error_class,omitempty"`
	Error       string     `json:"error,omitempty"`
	Failures    int        `json:"consecutive_failures"`
	Warning     string     `json:"warning,omitempty"` // recovered from, e.g. a charset that lies
	Posts       int        `json:"posts"`
}

type health struct {
	OK      bool           `json:"ok"`
	Time    time.Time      `json:"time"`
	Failing int            `json:"failing"`
	Sources []healthSource `json:"sources"`
	Error   string         `json:"error,omitempty"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// handleHealth reports the database and every source's last poll. It answers
// 503 only when the database does not.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	h := health{OK: true, Time: s.now().UTC().Truncate(time.Second), Sources: []healthSource{}}
	status := http.StatusOK
	srcs, err := s.store.Sources(r.Context())
	if err != nil {
		h.OK, h.Error, status = false, "database unavailable", http.StatusServiceUnavailable
		s.log.Error("healthz", "error", err)
	}
	for _, src := range srcs {
		st := src.State
		hs := healthSource{
			Name: src.Name, URL: st.URL, Status: st.Status,
			LastPoll: timePtr(st.LastPoll), LastSuccess: timePtr(st.LastSuccess), NextPoll: timePtr(st.NextPoll),
			ErrorClass: st.ErrorClass, Error: st.Error, Failures: st.Failures, Posts: src.Posts, Warning: st.Warning,
		}
		if hs.URL == "" {
			hs.URL = src.URL
		} else if hs.URL != src.URL {
			hs.ConfigURL = src.URL
		}
		if hs.Status == "" {
			hs.Status = "new"
		}
		if st.Status == "error" || st.Status == "gone" {
			h.Failing++
		}
		h.Sources = append(h.Sources, hs)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(h)
}

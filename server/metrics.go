package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds refeed's Prometheus metrics. The poller reports through
// ObservePoll; the server counts requests and its render cache.
type Metrics struct {
	reg       *prometheus.Registry
	polls     *prometheus.CounterVec
	items     *prometheus.CounterVec
	fetchTime prometheus.Histogram
	requests  *prometheus.CounterVec
	codes     [600]string // status code → label, so counting allocates nothing
}

// NewMetrics builds a registry with Go and process collectors and refeed's own metrics.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "refeed_polls_total", Help: "Source polls by result and error class.",
		}, []string{"result", "class"}),
		items: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "refeed_items_stored_total", Help: "Posts stored by polls, new or updated.",
		}, []string{"kind"}),
		fetchTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "refeed_fetch_duration_seconds", Help: "Time to poll one source.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2.5, 10),
		}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "refeed_http_requests_total", Help: "HTTP requests by route and status.",
		}, []string{"route", "status"}),
	}
	for code := range m.codes {
		m.codes[code] = strconv.Itoa(code)
	}
	m.reg.MustRegister(m.polls, m.items, m.fetchTime, m.requests,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObservePoll records one poll.
func (m *Metrics) ObservePoll(status, class string, newPosts, updated int, took time.Duration) {
	if m == nil {
		return
	}
	m.polls.WithLabelValues(status, class).Inc()
	m.items.WithLabelValues("new").Add(float64(newPosts))
	m.items.WithLabelValues("updated").Add(float64(updated))
	m.fetchTime.Observe(took.Seconds())
}

// Handler serves the metrics in Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// registerCache exposes the render cache's counters.
func (m *Metrics) registerCache(c *renderCache) {
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "refeed_render_cache_hits_total", Help: "Render cache hits."},
			func() float64 { h, _, _ := c.stats(); return float64(h) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "refeed_render_cache_misses_total", Help: "Render cache misses."},
			func() float64 { _, mi, _ := c.stats(); return float64(mi) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "refeed_render_cache_bytes", Help: "Bytes held by the render cache."},
			func() float64 { _, _, u := c.stats(); return float64(u) }),
	)
}

// statusRecorder captures the status a handler writes.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap gives http.ResponseController the response.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// instrument counts requests by matched route pattern and status. The mux
// records the pattern it matched in r.Pattern (the same one mux.Handler
// would return), so the route is not looked up twice.
func (m *Metrics) instrument(mux *http.ServeMux) http.Handler {
	if m == nil {
		return mux
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		mux.ServeHTTP(rec, r)
		pattern := r.Pattern
		if pattern == "" {
			pattern = "unmatched"
		}
		code := strconv.Itoa(rec.status)
		if rec.status >= 0 && rec.status < len(m.codes) {
			code = m.codes[rec.status]
		}
		m.requests.WithLabelValues(pattern, code).Inc()
	})
}

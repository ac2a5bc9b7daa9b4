package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"unsafe"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
)

// Limits of the fasthttp server returned by FastServer.
const (
	// MaxHeaderBytes bounds a request's header section: a larger one gets
	// 431. fasthttp reads the header into one buffer of this size per
	// connection, so it is also the read buffer that every keep-alive
	// connection holds: 16 KiB is nginx's order (four 8 KiB buffers for
	// long header lines) and far above what feed readers and browsers send.
	MaxHeaderBytes = 16 << 10
	// maxRequestBody bounds request bodies, which no route reads.
	maxRequestBody = 64 << 10
)

// FastServer returns a fasthttp.Server serving s through FastHandler, with
// refeed's header and body limits, one-line plain-text answers to requests
// fasthttp cannot parse (400, 408, 413, 431), no Server header and no
// default Content-Type. The caller sets the timeouts and serves it.
func (s *Server) FastServer() *fasthttp.Server {
	return &fasthttp.Server{
		Handler:                      s.FastHandler(),
		ErrorHandler:                 s.fastError,
		Logger:                       printfLogger{s.log},
		NoDefaultServerHeader:        true,
		NoDefaultContentType:         true,
		ReadBufferSize:               MaxHeaderBytes,
		MaxRequestBodySize:           maxRequestBody,
		DisablePreParseMultipartForm: true,
		CloseOnShutdown:              true,
	}
}

// FastHandler returns s as a fasthttp handler. A GET or HEAD whose exact
// request URI the net/http path lately answered from the render cache (see
// hotMap) is answered from that cached entity here, with the same headers,
// validators and counters as entity.write; every other request goes through
// fasthttpadaptor to ServeHTTP.
func (s *Server) FastHandler() fasthttp.RequestHandler {
	slow := s.adapt(s)
	return func(ctx *fasthttp.RequestCtx) {
		defer s.recoverFast(ctx)
		if !s.serveHot(ctx) {
			slow(ctx)
		}
	}
}

// serveHot answers ctx from the hot map and reports whether it did. It
// answers only while the entry's store version is current and the render
// cache still holds its entity; otherwise the net/http path decides.
func (s *Server) serveHot(ctx *fasthttp.RequestCtx) bool {
	if !ctx.IsGet() && !ctx.IsHead() {
		return false
	}
	he := s.hot.get(ctx.RequestURI())
	if he == nil || he.key.version != s.currentVersion(context.Background()) || he.key.gen != s.gen.Load() {
		return false
	}
	e, ok := s.cache.lookup(he.key)
	if !ok {
		return false
	}
	if e.writeFast(ctx) == http.StatusNotModified {
		if he.notM != nil {
			he.notM.Inc()
		}
	} else if he.ok != nil {
		he.ok.Inc()
	}
	return true
}

// Header names and values of the fast path, in net/http's canonical form.
var (
	fhEtag           = []byte("Etag")
	fhLastModified   = []byte("Last-Modified")
	fhCacheControl   = []byte("Cache-Control")
	fhVary           = []byte("Vary")
	fvAcceptEncoding = []byte("Accept-Encoding")
	fvGzip           = []byte("gzip")
)

// writeFast is entity.write for fasthttp; it returns the status sent.
// fasthttp itself sends no body for HEAD and 304, and sets Content-Length
// from the body (for HEAD too).
func (e *entity) writeFast(ctx *fasthttp.RequestCtx) int {
	rh := &ctx.Request.Header
	notModified, useGzip := e.choose(b2s(rh.Peek("Accept-Encoding")), b2s(rh.Peek("If-None-Match")), b2s(rh.Peek("If-Modified-Since")))
	etag, body := e.fETag, e.body
	if useGzip {
		etag, body = e.fGzETag, e.gz
	}
	h := &ctx.Response.Header
	h.SetCanonical(fhEtag, etag)
	if e.fLastMod != nil {
		h.SetCanonical(fhLastModified, e.fLastMod)
	}
	h.SetCanonical(fhCacheControl, e.fCacheControl)
	if e.zippable {
		h.SetCanonical(fhVary, fvAcceptEncoding)
	}
	if notModified {
		ctx.SetStatusCode(http.StatusNotModified)
		return http.StatusNotModified
	}
	h.SetContentTypeBytes(e.fCtype)
	if useGzip {
		h.SetContentEncodingBytes(fvGzip)
	}
	ctx.Response.SetBodyRaw(body)
	return http.StatusOK
}

// adapt serves h through fasthttpadaptor, with what the adaptor does
// differently from net/http's server put back:
//   - the adaptor's request strings (RequestURI, URL, Host, header values)
//     view fasthttp's buffers, which the next request on the connection
//     overwrites; the handlers keep strings of the URL past the request
//     (render-cache and hot-map keys), so the URI is copied and the URL
//     parsed from the copy, and Host copied. Header values stay views:
//     nothing keeps them past the request;
//   - a request target url.ParseRequestURI rejects gets a one-line 400 (the
//     adaptor answers 500, net/http 400);
//   - "OPTIONS *" gets an empty 200, as net/http's server gives it (the mux
//     alone answers 400);
//   - the request's context is not cancelled by the server's graceful
//     shutdown (a RequestCtx is a context that is), so requests in flight
//     finish as under net/http. Neither is it cancelled when the client goes
//     away, as net/http's is: handlers here detach their renders anyway.
func (s *Server) adapt(h http.Handler) fasthttp.RequestHandler {
	adapted := fasthttpadaptor.NewFastHTTPHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		uri := strings.Clone(r.RequestURI)
		u, err := url.ParseRequestURI(uri)
		if err != nil { // the same bytes parsed before: cannot happen
			fail400(w)
			return
		}
		r = r.WithContext(context.WithoutCancel(r.Context()))
		r.RequestURI, r.URL, r.Host = uri, u, strings.Clone(r.Host)
		h.ServeHTTP(w, r)
	}))
	return func(ctx *fasthttp.RequestCtx) {
		if ctx.IsOptions() && string(ctx.RequestURI()) == "*" {
			ctx.Response.Header.SetContentLength(0)
			return
		}
		if _, err := url.ParseRequestURI(b2s(ctx.RequestURI())); err != nil {
			failFast(ctx, http.StatusBadRequest, "malformed request target")
			return
		}
		adapted(ctx)
	}
}

func fail400(w http.ResponseWriter) {
	w.Header().Set("Content-Type", ctypeText)
	w.WriteHeader(http.StatusBadRequest)
	_, _ = io.WriteString(w, "malformed request target\n")
}

// recoverFast turns a panic of the fast path into a one-line 500; the
// net/http path has its own recoverer, so the adaptor never panics.
func (s *Server) recoverFast(ctx *fasthttp.RequestCtx) {
	if v := recover(); v != nil {
		s.log.Error("panic serving request", "path", string(ctx.Path()), "panic", fmt.Sprint(v))
		ctx.Response.Reset()
		failFast(ctx, http.StatusInternalServerError, "internal error")
	}
}

// fastError answers a request fasthttp could not read with one line.
func (s *Server) fastError(ctx *fasthttp.RequestCtx, err error) {
	var small *fasthttp.ErrSmallBuffer
	var netErr net.Error
	switch {
	case errors.As(err, &small):
		failFast(ctx, http.StatusRequestHeaderFieldsTooLarge, "request header too large")
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		failFast(ctx, http.StatusRequestEntityTooLarge, "request body too large")
	case errors.As(err, &netErr) && netErr.Timeout():
		failFast(ctx, http.StatusRequestTimeout, "request timeout")
	default:
		failFast(ctx, http.StatusBadRequest, "malformed request")
	}
}

// failFast is fail for fasthttp: one plain-text line and the status.
func failFast(ctx *fasthttp.RequestCtx, status int, msg string) {
	ctx.Response.Reset()
	ctx.SetStatusCode(status)
	ctx.Response.Header.SetContentType(ctypeText)
	ctx.Response.Header.Set("X-Content-Type-Options", "nosniff")
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.Response.SetBodyString(msg + "\n")
}

// printfLogger logs fasthttp's messages through slog.
type printfLogger struct{ log *slog.Logger }

func (l printfLogger) Printf(format string, args ...any) {
	l.log.Warn(fmt.Sprintf(format, args...), "component", "http")
}

// b2s views b as a string without copying; the string must not outlive b,
// which here is a request's header buffer, reused after the request.
func b2s(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

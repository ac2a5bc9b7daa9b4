package aggregator

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"strings"
)

// Error classes recorded in storage.SourceState.ErrorClass and Result.ErrorClass.
const (
	ClassDNS        = "dns"
	ClassConnect    = "connect"
	ClassTLS        = "tls"
	ClassTimeout    = "timeout"
	ClassHTTPStatus = "http_status"
	ClassTooLarge   = "too_large"
	ClassNotAFeed   = "not_a_feed"
	ClassParse      = "parse"
	ClassCharset    = "charset"
	ClassStore      = "store"
)

// Sentinel errors, wrapped with context; test with errors.Is.
var (
	// ErrTooLarge is returned when a body exceeds Options.MaxBody.
	ErrTooLarge = errors.New("aggregator: body too large")
	// ErrNotAFeed is returned when the body is not RSS, Atom or JSON Feed.
	ErrNotAFeed = errors.New("aggregator: not a feed")
	// ErrTooManyRedirects is returned after more than maxRedirects hops.
	ErrTooManyRedirects = errors.New("aggregator: too many redirects")
	// ErrRedirectLoop is returned when a redirect leads back to a URL already visited.
	ErrRedirectLoop = errors.New("aggregator: redirect loop")
	// ErrUnknownSource is returned by Poll for a name that is not configured.
	ErrUnknownSource = errors.New("aggregator: unknown source")
)

// StatusError is an HTTP answer other than 200, 304 or 410.
type StatusError struct {
	Code   int
	Status string
}

func (e *StatusError) Error() string { return "http status " + e.Status }

// classError pins an error class on an error from a step that knows it
// (decode: charset, parse: parse/not_a_feed).
type classError struct {
	class string
	err   error
}

func (e *classError) Error() string { return e.err.Error() }
func (e *classError) Unwrap() error { return e.err }

func withClass(class string, err error) error {
	if err == nil {
		return nil
	}
	return &classError{class: class, err: err}
}

// classify maps an error from any pipeline step to its error class.
func classify(err error) string {
	var ce *classError
	if errors.As(err, &ce) {
		return ce.class
	}
	var se *StatusError
	var dnsErr *net.DNSError
	var recErr tls.RecordHeaderError
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalidErr x509.CertificateInvalidError
	var opErr *net.OpError
	switch {
	case errors.Is(err, ErrTooLarge):
		return ClassTooLarge
	case errors.Is(err, ErrNotAFeed):
		return ClassNotAFeed
	case errors.As(err, &se), errors.Is(err, ErrTooManyRedirects), errors.Is(err, ErrRedirectLoop):
		// Redirect loops and too many hops count as HTTP trouble.
		return ClassHTTPStatus
	case errors.As(err, &dnsErr):
		return ClassDNS
	case errors.As(err, &recErr), errors.As(err, &certErr), errors.As(err, &unknownAuth),
		errors.As(err, &hostErr), errors.As(err, &invalidErr):
		return ClassTLS
	case errors.Is(err, context.DeadlineExceeded), os.IsTimeout(err):
		return ClassTimeout
	case errors.As(err, &opErr):
		if opErr.Op == "dial" {
			return ClassConnect
		}
		if opErr.Op == "remote error" || strings.Contains(opErr.Error(), "tls:") {
			return ClassTLS
		}
		return ClassConnect
	case errors.Is(err, os.ErrNotExist), errors.Is(err, os.ErrPermission):
		return ClassConnect
	case strings.Contains(err.Error(), "tls:"):
		return ClassTLS
	}
	return ClassConnect
}

package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Environment variables that steer the test.
const (
	envRequire     = "REFEED_BROWSER_TEST" // "1": a missing browser fails instead of skipping
	envChromium    = "REFEED_CHROMIUM"     // the browser binary, when it is not on PATH
	envScreenshots = "REFEED_SCREENSHOTS"  // where screenshots go; default a temp dir
)

// required reports whether the environment demands that the browser test run.
func required() bool { return os.Getenv(envRequire) == "1" }

// chromiumPath finds the browser: $REFEED_CHROMIUM, else the usual names on PATH.
func chromiumPath() (string, error) {
	if p := os.Getenv(envChromium); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", envChromium, p, err)
		}
		return p, nil
	}
	names := []string{"chromium", "chromium-browser", "google-chrome-stable", "google-chrome", "headless-shell"}
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("none of %s on PATH", strings.Join(names, ", "))
}

// requireChromium returns the browser's path, or skips the test when there is
// none, or fails it when REFEED_BROWSER_TEST=1.
func requireChromium(t *testing.T) string {
	t.Helper()
	if testing.Short() && !required() {
		t.Skipf("browser test skipped in -short mode (set %s=1 to run it)", envRequire)
	}
	p, err := chromiumPath()
	if err != nil {
		if required() {
			t.Fatalf("%s=1 but no Chromium: %v (apt-get install chromium, or set %s)", envRequire, err, envChromium)
		}
		t.Skipf("no Chromium (%v): browser test skipped; apt-get install chromium to run it, and set %s=1 to make a missing browser fail", err, envRequire)
	}
	return p
}

// browser is one headless Chromium tab with a recorder of everything that
// went wrong in it.
type browser struct {
	ctx context.Context
	rec *recorder
}

// newBrowser starts Chromium with a fresh profile. Requests to other origins
// than base never reach the network: images get a placeholder, anything else
// an empty 204, so posts that hotlink pictures render as they would online
// and this closed network causes no console errors.
func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	path := requireChromium(t)
	out := &lockedBuffer{}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoSandbox, // CI runs as root
		chromedp.Flag("disable-quic", true),
		// Without these, Chromium waits on connections the closed network refuses.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,InterestFeedContentSuggestions"),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.CombinedOutput(out),
	}
	// The whole browser session is bounded, so a hang fails instead of
	// eating CI's time.
	actx, cancelTimeout := context.WithTimeout(context.Background(), 90*time.Second)
	actx, cancelAlloc := chromedp.NewExecAllocator(actx, opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
		cancelTimeout()
		if t.Failed() {
			t.Logf("chromium output:\n%s", out.String())
		}
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v\n%s", path, err, out.String())
	}
	b := &browser{ctx: ctx, rec: newRecorder(base)}
	if err := b.rec.attach(ctx); err != nil {
		t.Fatalf("listen to the browser: %v", err)
	}
	return b
}

// recorder collects the console messages, failed requests and dialogs of a
// tab, and answers the requests it intercepts.
type recorder struct {
	origin string

	mu       sync.Mutex
	problems []string          // since the last take
	inflight map[string]string // request id → URL
	requests []string          // every URL the page asked for, in order
	external []string          // URLs of other origins, answered by the stub
}

func newRecorder(base string) *recorder {
	return &recorder{origin: base, inflight: map[string]string{}}
}

func (r *recorder) add(format string, args ...any) {
	r.mu.Lock()
	r.problems = append(r.problems, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

// take returns the problems seen since the last call.
func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.problems
	r.problems = nil
	return p
}

// idle reports whether no request is in flight.
func (r *recorder) idle() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.inflight) == 0
}

// attach subscribes to the tab's console, network and dialog events and
// turns on request interception.
func (r *recorder) attach(ctx context.Context) error {
	console := chromedp.Console(ctx)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			switch m.Type {
			case chromedp.ConsoleError, chromedp.ConsoleException, chromedp.ConsoleWarning:
				where := m.URL
				if m.Source != "" {
					where = m.Source + " " + where
				}
				r.add("console %s: %s (%s)", m.Type, m.Text, strings.TrimSpace(where))
			}
		}
	}()
	paused := chromedp.Events(ctx, fetch.RequestPaused)
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			r.answer(ctx, ev)
		}
	}()
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			r.add("the page opened a %s dialog: %q", ev.Type, ev.Message)
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	err := chromedp.Listen(ctx, func(ev any) {
		r.mu.Lock()
		defer r.mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			r.inflight[string(ev.RequestID)] = ev.Request.URL
			r.requests = append(r.requests, ev.Request.URL)
		case *network.EventResponseReceived:
			if ev.Response.Status >= 400 {
				r.problems = append(r.problems, fmt.Sprintf("HTTP %d for %s", ev.Response.Status, ev.Response.URL))
			}
		case *network.EventLoadingFinished:
			delete(r.inflight, string(ev.RequestID))
		case *network.EventLoadingFailed:
			u := r.inflight[string(ev.RequestID)]
			delete(r.inflight, string(ev.RequestID))
			if !ev.Canceled {
				r.problems = append(r.problems, fmt.Sprintf("request failed: %s: %s", u, ev.ErrorText))
			}
		}
	})
	if err != nil {
		return err
	}
	_, err = chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*"}}})
	return err
}

// placeholder is what a hotlinked image of another origin shows.
const placeholder = `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="240" viewBox="0 0 640 240">` +
	`<rect width="640" height="240" fill="#9aa0a6" fill-opacity="0.25"/>` +
	`<text x="320" y="128" font-family="sans-serif" font-size="20" text-anchor="middle" fill="#5f6368">external image (not fetched in the test)</text></svg>`

// answer lets requests to the site through and stubs every other origin.
func (r *recorder) answer(ctx context.Context, ev fetch.EventRequestPaused) {
	u := ev.Request.URL
	if strings.HasPrefix(u, r.origin+"/") || u == r.origin {
		_, _ = chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
		return
	}
	r.mu.Lock()
	r.external = append(r.external, u)
	r.mu.Unlock()
	p := fetch.FulfillRequestParams{RequestID: ev.RequestID, ResponseCode: 204}
	if ev.ResourceType == network.ResourceTypeImage {
		p.ResponseCode = 200
		p.ResponseHeaders = []*fetch.HeaderEntry{{Name: "Content-Type", Value: "image/svg+xml"}}
		p.Body = []byte(placeholder)
	}
	_, _ = chromedp.Call(ctx, fetch.FulfillRequest, p)
}

// settle waits until the page has loaded and no request has been in flight
// for a short while (a favicon or image fetched after load counts), up to a
// limit.
func (b *browser) settle() error {
	deadline := time.Now().Add(3 * time.Second)
	quiet := 0
	for time.Now().Before(deadline) {
		state, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.readyState`))
		if err != nil {
			return fmt.Errorf("read readyState: %w", err)
		}
		if state == "complete" && b.rec.idle() {
			quiet++
			if quiet >= 3 {
				return nil
			}
		} else {
			quiet = 0
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("the page did not settle within 3s")
}

package browsertest

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

//go:embed testdata/contrast.js
var contrastJS string

// viewport is one way a reader sees the site.
type viewport struct {
	name          string
	width, height int64
	scale         float64
	mobile        bool
	dark          bool
}

// viewports are the phone and desktop windows, light and dark. The first
// is the one the walk clicks in.
var viewports = []viewport{
	{name: "phone", width: 390, height: 844, scale: 2, mobile: true},
	{name: "phone-dark", width: 390, height: 844, scale: 2, mobile: true, dark: true},
	{name: "desktop", width: 1280, height: 900, scale: 1},
	{name: "desktop-dark", width: 1280, height: 900, scale: 1, dark: true},
}

// minContrast is WCAG AA for normal text.
const minContrast = 4.5

// screenshotDir returns $REFEED_SCREENSHOTS, created, or a temp dir.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv(envScreenshots)
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("screenshot dir: %v", err)
	}
	return dir
}

// use switches the tab to the viewport and colour scheme of v.
func (b *browser) use(t *testing.T, v viewport) {
	t.Helper()
	opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(v.scale)}
	if v.mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulatePortrait)
	}
	scheme := "light"
	if v.dark {
		scheme = "dark"
	}
	err := chromedp.Do(b.ctx,
		chromedp.EmulateViewport(v.width, v.height, opts...),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
			})
			return err
		}),
	)
	if err != nil {
		t.Fatalf("emulate %s: %v", v.name, err)
	}
}

// contrast is one styled element's text contrast.
type contrast struct {
	Sel   string  `json:"sel"`
	FG    string  `json:"fg"`
	BG    string  `json:"bg"`
	Ratio float64 `json:"ratio"`
}

// shoot renders the current page in every viewport: it checks that nothing
// is wider than a phone's screen and that text contrast holds in light and
// dark, and saves a full-page screenshot as DIR/NN-page-viewport.png. It
// leaves the tab in the first viewport.
func (b *browser) shoot(t *testing.T, dir string, n int, page string) {
	t.Helper()
	for _, v := range viewports {
		b.use(t, v)
		p := b.inspect(t)
		if p.ScrollWidth > p.ViewWidth {
			t.Errorf("%s %s: the page is %dpx wide in a %dpx window (scrolls sideways)", page, v.name, p.ScrollWidth, p.ViewWidth)
		}
		cs, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]contrast](contrastJS))
		if err != nil {
			t.Fatalf("%s %s: contrast: %v", page, v.name, err)
		}
		lowest := contrast{Ratio: 21}
		for _, c := range cs {
			if c.Ratio < lowest.Ratio {
				lowest = c
			}
			if c.Ratio < minContrast {
				t.Errorf("%s %s: %s has contrast %.2f:1 (%s on %s), want ≥ %.1f", page, v.name, c.Sel, c.Ratio, c.FG, c.BG, minContrast)
			}
		}
		t.Logf("%s %s: %dpx window, content %dpx wide, lowest text contrast %.1f:1 (%s)", page, v.name, p.ViewWidth, p.ScrollWidth, lowest.Ratio, lowest.Sel)
		png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("%s %s: screenshot: %v", page, v.name, err)
		}
		file := filepath.Join(dir, fmt.Sprintf("%02d-%s-%s.png", n, page, v.name))
		if err := os.WriteFile(file, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b.use(t, viewports[0])
}

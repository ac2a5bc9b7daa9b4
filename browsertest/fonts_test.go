package browsertest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/css"
	"github.com/chromedp/chromedp"
)

// cjkFamilies are fonts that hold the Chinese glyphs; one of them must draw
// the Chinese headings, or screenshots and readers without them see boxes.
var cjkFamilies = []string{"Noto Sans CJK", "Noto Serif CJK", "Source Han", "WenQuanYi", "Droid Sans Fallback",
	"AR PL", "PingFang", "Hiragino", "Microsoft YaHei", "SimSun", "SimHei", "Heiti", "Songti"}

// renderedFonts returns the platform fonts that drew the text of the first
// element matching sel, with their glyph counts.
func (b *browser) renderedFonts(sel string) (map[string]float64, error) {
	return chromedp.Run(b.ctx, chromedp.QueryAfter(chromedp.CSS(sel),
		func(ctx context.Context, t *chromedp.Target, nodes []*chromedp.Node) (map[string]float64, error) {
			if _, err := cdp.Call(ctx, t, css.Enable, cdp.Empty{}); err != nil {
				return nil, fmt.Errorf("CSS.enable: %w", err)
			}
			res, err := cdp.Call(ctx, t, css.GetPlatformFontsForNode, css.GetPlatformFontsForNodeParams{NodeID: nodes[0].NodeID})
			if err != nil {
				return nil, fmt.Errorf("CSS.getPlatformFontsForNode: %w", err)
			}
			fonts := map[string]float64{}
			for _, f := range res.Fonts {
				fonts[f.FamilyName] += f.GlyphCount
			}
			return fonts, nil
		}, chromedp.NodeReady))
}

// checkCJKFont wants the Chinese text of sel drawn with a CJK font. Without
// REFEED_BROWSER_TEST=1 a missing font is only logged: the site is fine, the
// machine lacks fonts-noto-cjk.
func (b *browser) checkCJKFont(t *testing.T, name, sel string) {
	t.Helper()
	fonts, err := b.renderedFonts(sel)
	if err != nil {
		t.Errorf("%s: fonts of %s: %v", name, sel, err)
		return
	}
	for fam := range fonts {
		for _, c := range cjkFamilies {
			if strings.Contains(fam, c) {
				return
			}
		}
	}
	msg := fmt.Sprintf("%s: the Chinese text of %s is drawn with %v, no CJK font: install fonts-noto-cjk", name, sel, fonts)
	if required() {
		t.Error(msg)
	} else {
		t.Log(msg)
	}
}

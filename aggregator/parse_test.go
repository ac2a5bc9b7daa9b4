package aggregator

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseFormats(t *testing.T) {
	tests := []struct {
		file, feedType, title string
		items                 int
		hint                  time.Duration
	}{
		{"rss2.xml", "rss", "中国税务报 & News", 3, 2 * time.Hour},
		{"rss1.xml", "rss", "RSS 1.0 feed", 1, 12 * time.Hour},
		{"atom.xml", "atom", "Atom &amp; more", 1, 0},
		{"feed.json", "json", "JSON feed", 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body, err := toUTF8(readTestdata(t, tt.file), "")
			if err != nil {
				t.Fatal(err)
			}
			feed, err := parse(body)
			if err != nil {
				t.Fatal(err)
			}
			if feed.FeedType != tt.feedType || len(feed.Items) != tt.items {
				t.Errorf("type %s items %d, want %s %d", feed.FeedType, len(feed.Items), tt.feedType, tt.items)
			}
			if feed.Title != tt.title {
				t.Errorf("title %q, want %q", feed.Title, tt.title)
			}
			if got := feedHint(feed); got != tt.hint {
				t.Errorf("hint %v, want %v", got, tt.hint)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, body, class string
	}{
		{"html page", string(readTestdata(t, "page.html")), ClassNotAFeed},
		{"empty", "", ClassNotAFeed},
		{"plain text", "hello world", ClassNotAFeed},
		{"truncated rss", `<?xml version="1.0"?><rss version="2.0"><channel><title>x</title><item><title>a</ti`, ""},
		{"broken json", `{"version": "https://jsonfeed.org/version/1.1", "items": [`, ClassParse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse([]byte(tt.body))
			if tt.class == "" {
				return // lenient parsing is fine, as long as it does not panic
			}
			if err == nil {
				t.Fatal("no error")
			}
			if got := classify(err); got != tt.class {
				t.Errorf("class %q, want %q (%v)", got, tt.class, err)
			}
			if tt.class == ClassNotAFeed && !errors.Is(err, ErrNotAFeed) {
				t.Errorf("not ErrNotAFeed: %v", err)
			}
		})
	}
}

// TestParseEntityBomb checks that a billion-laughs document is not expanded:
// encoding/xml does not expand custom entities, so parsing costs about the
// size of the input.
func TestParseEntityBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?>` + "\n<!DOCTYPE rss [\n" + `<!ENTITY lol "lol">` + "\n")
	prev := "lol"
	for i := 1; i <= 9; i++ {
		name := "lol" + string(rune('0'+i))
		b.WriteString(`<!ENTITY ` + name + ` "` + strings.Repeat("&"+prev+";", 10) + `">` + "\n")
		prev = name
	}
	b.WriteString("]>\n<rss version=\"2.0\"><channel><title>&" + prev + ";</title><item><title>&" + prev + ";</title><description>&" + prev + ";</description></item></channel></rss>")

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	feed, err := parse([]byte(b.String()))
	runtime.ReadMemStats(&after)
	if err == nil {
		for _, it := range feed.Items {
			if len(it.Title) > 1000 || len(it.Description) > 1000 {
				t.Fatalf("entity expanded: %d bytes", len(it.Title))
			}
		}
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
		t.Errorf("allocated %d MiB parsing a %d-byte bomb", grew>>20, b.Len())
	}
}

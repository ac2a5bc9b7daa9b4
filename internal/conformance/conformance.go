// Package conformance finds the shared conformance tools (check-feed,
// newsboat-read) for tests. Tests skip when the tools or what they need are
// missing, unless REFEED_CONFORMANCE=1 is set (as .ci/run does): then a
// missing tool fails the test, so CI never skips silently.
package conformance

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Required reports whether missing tools must fail tests instead of skipping them.
func Required() bool { return os.Getenv("REFEED_CONFORMANCE") == "1" }

// unavailable skips or fails the test.
func unavailable(tb testing.TB, why string) {
	tb.Helper()
	if Required() {
		tb.Fatalf("REFEED_CONFORMANCE=1 but %s (run ../shared/conformance/install-deps.sh)", why)
	}
	tb.Skipf("%s (run ../shared/conformance/install-deps.sh, or set REFEED_CONFORMANCE=1 to make this an error)", why)
}

// Dir returns the shared conformance directory: $REFEED_SHARED/conformance,
// or ../shared/conformance next to the module root.
func Dir(tb testing.TB) string {
	tb.Helper()
	if shared := os.Getenv("REFEED_SHARED"); shared != "" {
		return filepath.Join(shared, "conformance")
	}
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "conformance")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("go.mod not found above the test's directory")
		}
		dir = parent
	}
}

// CheckFeed returns the path of check-feed, or skips/fails when it or its
// dependencies (jing, xmllint, python3 with feedparser and lxml) are missing.
func CheckFeed(tb testing.TB) string {
	tb.Helper()
	path := filepath.Join(Dir(tb), "check-feed")
	if _, err := os.Stat(path); err != nil {
		unavailable(tb, "check-feed not found at "+path)
	}
	for _, bin := range []string{"jing", "xmllint"} {
		if _, err := exec.LookPath(bin); err != nil {
			unavailable(tb, bin+" is not installed")
		}
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import feedparser, lxml").Run(); err != nil {
		unavailable(tb, "python3-feedparser or python3-lxml is not installed")
	}
	return path
}

// NewsboatRead returns the path of newsboat-read, or skips/fails when it or
// newsboat and sqlite3 are missing.
func NewsboatRead(tb testing.TB) string {
	tb.Helper()
	path := filepath.Join(Dir(tb), "newsboat-read")
	if _, err := os.Stat(path); err != nil {
		unavailable(tb, "newsboat-read not found at "+path)
	}
	for _, bin := range []string{"newsboat", "sqlite3"} {
		if _, err := exec.LookPath(bin); err != nil {
			unavailable(tb, bin+" is not installed")
		}
	}
	return path
}

// Feedparser returns the python3 that has feedparser, or skips/fails.
func Feedparser(tb testing.TB) string {
	tb.Helper()
	if err := exec.Command("/usr/bin/python3", "-c", "import feedparser").Run(); err != nil {
		unavailable(tb, "python3-feedparser is not installed")
	}
	return "/usr/bin/python3"
}

package sqlite

import (
	"context"
	"path/filepath"
	"testing"
)

// MustOpen opens a new database in a temporary directory for a test or
// benchmark, and closes it when tb ends. It is exported for the tests of
// other packages that need a real store.
func MustOpen(tb testing.TB, opts ...Option) *Store {
	tb.Helper()
	s, err := Open(context.Background(), filepath.Join(tb.TempDir(), "refeed.db"), opts...)
	if err != nil {
		tb.Fatalf("sqlite.Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// Package sqlitetest opens SQLite stores for the tests of other packages.
// It lives apart from package sqlite so that the production binary does not
// link package testing.
package sqlitetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/refeed/refeed/storage/sqlite"
)

// MustOpen opens a new database in a temporary directory for a test or
// benchmark, and closes it when tb ends.
func MustOpen(tb testing.TB, opts ...sqlite.Option) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "refeed.db"), opts...)
	if err != nil {
		tb.Fatalf("sqlite.Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/refeed/refeed/storage"
)

// claimOf force-claims the source name for a test's SavePoll; a source that
// does not exist gets a claim of its name alone, which SavePoll refuses with
// ErrNotFound.
func claimOf(s *Store, name string) storage.Claim {
	cs, err := s.Claim(context.Background(), storage.ClaimRequest{Owner: "test", Lease: time.Hour, Limit: 1,
		Names: []string{name}, Force: true})
	if err != nil {
		panic(fmt.Sprintf("claim %s: %v", name, err))
	}
	if len(cs) == 0 {
		return storage.Claim{Source: name}
	}
	return cs[0]
}

// mustOpen opens a new database in a temporary directory for a test.
func mustOpen(tb testing.TB, opts ...Option) *Store {
	tb.Helper()
	s, err := Open(context.Background(), filepath.Join(tb.TempDir(), "refeed.db"), opts...)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

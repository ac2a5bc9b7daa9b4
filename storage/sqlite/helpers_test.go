package sqlite

import (
	"context"
	"fmt"
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

package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/refeed/refeed/storage"
	"github.com/refeed/refeed/storage/storagetest"
)

// Saved posts reach the database file itself soon after their commit, while
// the store stays open, and not only once the WAL reaches
// walCheckpointPages or the store closes: the background checkpointer
// copies them.
func TestBackgroundCheckpoint(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "refeed.db")
	s := mustOpenAt(t, path)
	if err := s.SyncSources(ctx, []storage.SourceConfig{{Name: "s", URL: "https://example.org/", Category: "c"}}); err != nil {
		t.Fatal(err)
	}
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size()
	posts := make([]storage.Post, 400) // about 2 MB of rows and indexes
	for i := range posts {
		posts[i] = storagetest.BenchPost(i)
	}
	if _, err := s.SavePoll(ctx, claimOf(s, "s"), storage.SourceState{Status: storage.StatusOK}, posts); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for size() < before+1<<20 {
		if time.Now().After(deadline) {
			t.Fatalf("database file %d bytes 10 s after a 400-post commit (%d before): the WAL was not checkpointed", size(), before)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

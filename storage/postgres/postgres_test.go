package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/refeed/refeed/storage"
	"github.com/refeed/refeed/storage/postgres/pgtest"
	"github.com/refeed/refeed/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, now func() time.Time) storage.Store {
		s, err := Open(context.Background(), pgtest.URL(t), WithNow(now))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

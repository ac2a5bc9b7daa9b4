// Package pgtest gives tests a PostgreSQL database of their own: a fresh
// schema in the database that REFEED_TEST_POSTGRES names (scripts/pg-cluster.sh
// starts one). Without that variable the test skips with one line, unless
// REFEED_REQUIRE_POSTGRES=1 (set by .ci/run): then a missing PostgreSQL is
// a failure, never a skip.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Env is the variable naming the test database's URL.
const Env = "REFEED_TEST_POSTGRES"

// URL returns the URL of a new, empty schema (search_path set to it),
// dropped when tb ends.
func URL(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(Env)
	if base == "" {
		if os.Getenv("REFEED_REQUIRE_POSTGRES") == "1" {
			tb.Fatalf("%s is not set, and REFEED_REQUIRE_POSTGRES=1: PostgreSQL tests must run", Env)
		}
		tb.Skipf("no PostgreSQL: set %s (scripts/pg-cluster.sh start DIR prints it)", Env)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("pgtest: connect %s: %v", Env, err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("pgtest: create schema: %v", err)
	}
	tb.Cleanup(func() {
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Logf("pgtest: drop schema %s: %v", schema, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Logf("pgtest: drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("pgtest: %s: %v", Env, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

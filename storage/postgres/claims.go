package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/refeed/refeed/storage"
)

// claimColumns are the poll state columns a claim returns, in scanState's
// order.
const claimColumns = `s.name, s.url, s.etag, s.last_modified, s.title, s.site_url, s.last_poll, s.last_success,
	s.status, s.error_class, s.error, s.failures, s.next_poll, s.warning`

// Claim leases sources to r.Owner in one statement: the pick locks its rows
// FOR UPDATE SKIP LOCKED, so concurrent claimers (in any process) step
// over each other's picks instead of waiting or sharing them, and a row
// another transaction is saving is not claimed under it. The fencing token
// comes from a sequence, and "now" is the database's.
func (s *Store) Claim(ctx context.Context, r storage.ClaimRequest) ([]storage.Claim, error) {
	if r.Owner == "" || r.Lease <= 0 || r.Limit <= 0 {
		return nil, fmt.Errorf("postgres: claim: need an owner, a lease and a limit (got %q, %v, %d)", r.Owner, r.Lease, r.Limit)
	}
	if r.Names != nil && len(r.Names) == 0 {
		return nil, nil
	}
	var dueBy any
	if !r.DueBy.IsZero() {
		dueBy = r.DueBy.UnixNano()
	}
	// $1 clock, $2 owner, $3 lease, $4 limit, then the pick's own.
	args := []any{s.clock(), text(r.Owner), int64(r.Lease), r.Limit}
	var pick string
	switch {
	case r.Names == nil && !r.Force:
		pick = `SELECT s.name FROM sources s, n
			WHERE s.status <> 'gone' AND greatest(s.next_poll, s.lease_until) <= least(n.t, $5::bigint)
			ORDER BY greatest(s.next_poll, s.lease_until) LIMIT $4 FOR UPDATE OF s SKIP LOCKED`
		args = append(args, dueBy)
	case r.Names == nil:
		pick = `SELECT s.name FROM sources s, n WHERE s.name > $5 AND s.lease_until <= n.t
			ORDER BY s.name LIMIT $4 FOR UPDATE OF s SKIP LOCKED`
		args = append(args, text(r.After))
	default:
		names := make([]string, len(r.Names))
		for i, name := range r.Names {
			names[i] = text(name)
		}
		pick = `SELECT s.name FROM sources s, n WHERE s.name = ANY($5) AND s.lease_until <= n.t
			AND ($6 OR (s.status <> 'gone' AND s.next_poll <= least(n.t, $7::bigint)))
			ORDER BY s.next_poll, s.name LIMIT $4 FOR UPDATE OF s SKIP LOCKED`
		args = append(args, names, r.Force, dueBy)
	}
	query := `WITH n AS (SELECT ` + nowSQL(1) + ` AS t),
		pick AS (` + pick + `),
		tok AS (SELECT nextval('lease_tokens') AS v WHERE EXISTS (SELECT 1 FROM pick))
		UPDATE sources s SET lease_owner = $2, lease_until = n.t + $3, lease_token = tok.v
		FROM pick, tok, n WHERE s.name = pick.name
		RETURNING tok.v, n.t, ` + claimColumns
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: claim: %w", err)
	}
	defer rows.Close()
	var claims []storage.Claim
	for rows.Next() {
		var c storage.Claim
		var now int64
		if err := scanState(rows, []any{&c.Token, &now}, &c.Source, &c.State); err != nil {
			return nil, fmt.Errorf("postgres: claim: %w", err)
		}
		c.Claimed = fromNano(now)
		c.Until = c.Claimed.Add(r.Lease)
		claims = append(claims, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: claim: %w", err)
	}
	storage.SortClaims(claims)
	return claims, nil
}

// scanState scans a row of the columns in first, then claimColumns.
func scanState(rows pgx.Rows, first []any, name *string, st *storage.SourceState) error {
	var lastPoll, lastSuccess, nextPoll int64
	dst := append(first, name, &st.URL, &st.ETag, &st.LastModified, &st.Title, &st.SiteURL, &lastPoll, &lastSuccess,
		&st.Status, &st.ErrorClass, &st.Error, &st.Failures, &nextPoll, &st.Warning)
	if err := rows.Scan(dst...); err != nil {
		return err
	}
	st.LastPoll, st.LastSuccess, st.NextPoll = fromNano(lastPoll), fromNano(lastSuccess), fromNano(nextPoll)
	return nil
}

// Release ends the claims' leases, where they are still theirs.
func (s *Store) Release(ctx context.Context, claims []storage.Claim) error {
	if len(claims) == 0 {
		return nil
	}
	names := make([]string, len(claims))
	tokens := make([]int64, len(claims))
	for i, c := range claims {
		names[i], tokens[i] = text(c.Source), c.Token
	}
	if _, err := s.pool.Exec(ctx, `UPDATE sources s SET lease_owner = '', lease_until = 0
		FROM unnest($1::text[], $2::bigint[]) AS c (name, token)
		WHERE s.name = c.name AND s.lease_token = c.token`, names, tokens); err != nil {
		return fmt.Errorf("postgres: release: %w", err)
	}
	return nil
}

// NextDue reads the earliest claimable time along sources_due.
func (s *Store) NextDue(ctx context.Context) (time.Duration, bool, error) {
	var wait int64
	err := s.pool.QueryRow(ctx, `SELECT greatest(s.next_poll, s.lease_until) - `+nowSQL(1)+` FROM sources s
		WHERE s.status <> 'gone' ORDER BY greatest(s.next_poll, s.lease_until) LIMIT 1`, s.clock()).Scan(&wait)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("postgres: next due: %w", err)
	}
	return max(0, time.Duration(wait)), true, nil
}

// AcquireLease takes or renews a named lease in one upsert.
func (s *Store) AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (storage.Lease, error) {
	if name == "" || owner == "" || ttl <= 0 {
		return storage.Lease{}, fmt.Errorf("postgres: lease: need a name, an owner and a ttl (got %q, %q, %v)", name, owner, ttl)
	}
	l := storage.Lease{Name: name, Owner: owner}
	var until int64
	err := s.pool.QueryRow(ctx, `WITH n AS (SELECT `+nowSQL(1)+` AS t)
		INSERT INTO leases AS l (name, owner, until, token) SELECT $2, $3, n.t + $4, 1 FROM n
		ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until,
			token = l.token + CASE WHEN l.owner <> excluded.owner OR l.until <= (SELECT t FROM n) THEN 1 ELSE 0 END
		WHERE l.owner = excluded.owner OR l.until <= (SELECT t FROM n)
		RETURNING token, until`, s.clock(), text(name), text(owner), int64(ttl)).Scan(&l.Token, &until)
	if errors.Is(err, pgx.ErrNoRows) {
		return storage.Lease{}, fmt.Errorf("postgres: lease %q: %w", name, storage.ErrLeaseHeld)
	}
	if err != nil {
		return storage.Lease{}, fmt.Errorf("postgres: lease %q: %w", name, err)
	}
	l.Until = fromNano(until)
	return l, nil
}

// ReleaseLease ends owner's lease of that name, if owner holds it.
func (s *Store) ReleaseLease(ctx context.Context, name, owner string) error {
	if _, err := s.pool.Exec(ctx, `UPDATE leases SET until = 0 WHERE name = $1 AND owner = $2`, text(name), text(owner)); err != nil {
		return fmt.Errorf("postgres: release lease %q: %w", name, err)
	}
	return nil
}

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/refeed/refeed/storage"
)

// The queries that find due sources, both along the index sources_due.
const (
	pickDueSQL = `SELECT name FROM sources WHERE status <> 'gone' AND max(next_poll, lease_until) <= ?
			ORDER BY max(next_poll, lease_until) LIMIT ?`
	nextDueSQL = `SELECT max(next_poll, lease_until) FROM sources WHERE status <> 'gone'
		ORDER BY max(next_poll, lease_until) LIMIT 1`
)

// claimColumns are the poll state columns a claim returns.
const claimColumns = `name, url, etag, last_modified, title, site_url, last_poll, last_success, status,
	error_class, error, failures, next_poll, warning`

// Claim leases sources to r.Owner (storage.Store.Claim). It runs on the
// writer, in one transaction: the next fencing token, then one UPDATE …
// RETURNING that takes the sources, so two processes on one file never
// claim one source (SQLite's write lock orders them). Which sources are due
// is read from the index sources_due.
func (s *Store) Claim(ctx context.Context, r storage.ClaimRequest) ([]storage.Claim, error) {
	if r.Owner == "" || r.Lease <= 0 || r.Limit <= 0 {
		return nil, fmt.Errorf("sqlite: claim: need an owner, a lease and a limit (got %q, %v, %d)", r.Owner, r.Lease, r.Limit)
	}
	if r.Names != nil && len(r.Names) == 0 {
		return nil, nil
	}
	now := s.now().UTC()
	until := now.Add(r.Lease)
	dueBy := now
	if !r.DueBy.IsZero() && r.DueBy.Before(now) {
		dueBy = r.DueBy
	}
	var pick string
	var args []any
	switch {
	case r.Names == nil && !r.Force:
		pick = pickDueSQL
		args = []any{dueBy.UnixNano(), r.Limit}
	case r.Names == nil:
		pick = `SELECT name FROM sources WHERE name > ? AND lease_until <= ? ORDER BY name LIMIT ?`
		args = []any{r.After, now.UnixNano(), r.Limit}
	default:
		names, err := jsonStrings(r.Names)
		if err != nil {
			return nil, fmt.Errorf("sqlite: claim: %w", err)
		}
		pick = `SELECT s.name FROM json_each(?) j CROSS JOIN sources s ON s.name = j.value
			WHERE s.lease_until <= ? AND (? OR (s.status <> 'gone' AND s.next_poll <= ?))
			ORDER BY s.next_poll, s.name LIMIT ?`
		args = []any{names, now.UnixNano(), r.Force, dueBy.UnixNano(), r.Limit}
	}
	var claims []storage.Claim
	errNone := errors.New("nothing to claim")
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var token int64
		if err := tx.QueryRowContext(ctx, `UPDATE meta SET value = value + 1 WHERE key = 'lease_token' RETURNING value`).
			Scan(&token); err != nil {
			return fmt.Errorf("token: %w", err)
		}
		rows, err := tx.QueryContext(ctx, `UPDATE sources SET lease_owner = ?, lease_until = ?, lease_token = ?
			WHERE name IN (`+pick+`) RETURNING `+claimColumns,
			append([]any{r.Owner, until.UnixNano(), token}, args...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c := storage.Claim{Token: token, Claimed: now, Until: until}
			if err := scanState(rows, &c.Source, &c.State); err != nil {
				return err
			}
			claims = append(claims, c)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(claims) == 0 {
			return errNone // roll back: no token spent
		}
		return nil
	})
	if errors.Is(err, errNone) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim: %w", err)
	}
	storage.SortClaims(claims)
	return claims, nil
}

// scanState reads claimColumns.
func scanState(rows *sql.Rows, name *string, st *storage.SourceState) error {
	var lastPoll, lastSuccess, nextPoll int64
	if err := rows.Scan(name, &st.URL, &st.ETag, &st.LastModified, &st.Title, &st.SiteURL, &lastPoll, &lastSuccess,
		&st.Status, &st.ErrorClass, &st.Error, &st.Failures, &nextPoll, &st.Warning); err != nil {
		return err
	}
	st.LastPoll, st.LastSuccess, st.NextPoll = fromNano(lastPoll), fromNano(lastSuccess), fromNano(nextPoll)
	return nil
}

// Release ends the leases of claims that are still their sources' newest.
func (s *Store) Release(ctx context.Context, claims []storage.Claim) error {
	if len(claims) == 0 {
		return nil
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, c := range claims {
			if _, err := tx.ExecContext(ctx, `UPDATE sources SET lease_owner = '', lease_until = 0
				WHERE name = ? AND lease_token = ?`, c.Source, c.Token); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: release: %w", err)
	}
	return nil
}

// NextDue returns how long until a source is claimable, from the index
// sources_due.
func (s *Store) NextDue(ctx context.Context) (time.Duration, bool, error) {
	var at int64
	err := s.read.QueryRowContext(ctx, nextDueSQL).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("sqlite: next due: %w", err)
	}
	return max(0, fromNano(at).Sub(s.now())), true, nil
}

// AcquireLease takes or renews a named lease (storage.Store.AcquireLease).
func (s *Store) AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (storage.Lease, error) {
	if name == "" || owner == "" || ttl <= 0 {
		return storage.Lease{}, fmt.Errorf("sqlite: lease: need a name, an owner and a ttl (got %q, %q, %v)", name, owner, ttl)
	}
	now := s.now().UTC()
	l := storage.Lease{Name: name, Owner: owner, Until: now.Add(ttl)}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO leases (name, owner, until, token) VALUES (?1, ?2, ?3, 1)
			ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until,
				token = token + (owner <> excluded.owner OR until <= ?4)
			WHERE owner = excluded.owner OR until <= ?4
			RETURNING token`, name, owner, l.Until.UnixNano(), now.UnixNano()).Scan(&l.Token)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return storage.Lease{}, fmt.Errorf("sqlite: lease %q: %w", name, storage.ErrLeaseHeld)
	}
	if err != nil {
		return storage.Lease{}, fmt.Errorf("sqlite: lease %q: %w", name, err)
	}
	return l, nil
}

// ReleaseLease ends owner's lease of name.
func (s *Store) ReleaseLease(ctx context.Context, name, owner string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE leases SET until = 0 WHERE name = ? AND owner = ?`, name, owner)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: release lease %q: %w", name, err)
	}
	return nil
}

package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// RegisterConfig records owner's config's source names until ttl from the
// database's now.
func (s *Store) RegisterConfig(ctx context.Context, owner string, names []string, ttl time.Duration) error {
	if owner == "" || ttl <= 0 {
		return fmt.Errorf("postgres: register config: need an owner and a ttl (got %q, %v)", owner, ttl)
	}
	clean := make([]string, len(names))
	for i, n := range names {
		clean[i] = text(n)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO configs (owner, names, until) VALUES ($1, $2, `+nowSQL(3)+` + $4)
		ON CONFLICT (owner) DO UPDATE SET names = excluded.names, until = excluded.until`,
		text(owner), clean, s.clock(), int64(ttl)); err != nil {
		return fmt.Errorf("postgres: register config: %w", err)
	}
	return nil
}

// UnregisterConfig ends owner's registration (and forgets expired ones).
func (s *Store) UnregisterConfig(ctx context.Context, owner string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM configs WHERE owner = $1 OR until <= `+nowSQL(2),
		text(owner), s.clock()); err != nil {
		return fmt.Errorf("postgres: unregister config: %w", err)
	}
	return nil
}

// registeredNames returns the source names live registrations hold, and
// whether there is any live registration.
func (s *Store) registeredNames(ctx context.Context, tx pgx.Tx) (map[string]bool, bool, error) {
	rows, err := tx.Query(ctx, `SELECT names FROM configs WHERE until > `+nowSQL(1), s.clock())
	if err != nil {
		return nil, false, fmt.Errorf("registered configs: %w", err)
	}
	lists, err := pgx.CollectRows(rows, pgx.RowTo[[]string])
	if err != nil {
		return nil, false, fmt.Errorf("registered configs: %w", err)
	}
	m := map[string]bool{}
	for _, l := range lists {
		for _, n := range l {
			m[n] = true
		}
	}
	return m, len(lists) > 0, nil
}

// RemoveUnnamed removes the sources no live registration names.
func (s *Store) RemoveUnnamed(ctx context.Context) (int, error) {
	removed := 0
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		removed = 0
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(syncLock)); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		kept, live, err := s.registeredNames(ctx, tx)
		if err != nil || !live {
			return err
		}
		old, err := loadConfigs(ctx, tx)
		if err != nil {
			return err
		}
		var affected []int64
		for name := range old {
			if kept[name] {
				continue
			}
			rids, err := removeSource(ctx, tx, name)
			if err != nil {
				return err
			}
			affected = append(affected, rids...)
			removed++
		}
		if removed == 0 {
			return nil
		}
		if _, err := rebuildAffected(ctx, tx, affected); err != nil {
			return err
		}
		return bumpVersion(ctx, tx)
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: remove unnamed sources: %w", err)
	}
	return removed, nil
}

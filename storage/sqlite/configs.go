package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// RegisterConfig records owner's config's source names until ttl from now.
func (s *Store) RegisterConfig(ctx context.Context, owner string, names []string, ttl time.Duration) error {
	if owner == "" || ttl <= 0 {
		return fmt.Errorf("sqlite: register config: need an owner and a ttl (got %q, %v)", owner, ttl)
	}
	if names == nil {
		names = []string{}
	}
	js, err := jsonStrings(names)
	if err != nil {
		return fmt.Errorf("sqlite: register config: %w", err)
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO configs (owner, names, until) VALUES (?, ?, ?)
			ON CONFLICT (owner) DO UPDATE SET names = excluded.names, until = excluded.until`,
			owner, js, s.now().Add(ttl).UnixNano())
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: register config: %w", err)
	}
	return nil
}

// UnregisterConfig ends owner's registration.
func (s *Store) UnregisterConfig(ctx context.Context, owner string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM configs WHERE owner = ? OR until <= ?`, owner, s.now().UnixNano())
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: unregister config: %w", err)
	}
	return nil
}

// registeredNames returns the source names live registrations hold, and
// whether there is any live registration.
func (s *Store) registeredNames(ctx context.Context, tx *sql.Tx) (map[string]bool, bool, error) {
	now := s.now().UnixNano()
	var live int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM configs WHERE until > ?`, now).Scan(&live); err != nil {
		return nil, false, fmt.Errorf("registered configs: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT j.value FROM configs c, json_each(c.names) j WHERE c.until > ?`, now)
	if err != nil {
		return nil, false, fmt.Errorf("registered configs: %w", err)
	}
	defer rows.Close()
	m := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, false, fmt.Errorf("registered configs: %w", err)
		}
		m[name] = true
	}
	return m, live > 0, rows.Err()
}

// RemoveUnnamed removes the sources no live registration names.
func (s *Store) RemoveUnnamed(ctx context.Context) (int, error) {
	removed := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		removed = 0
		kept, live, err := s.registeredNames(ctx, tx)
		if err != nil || !live {
			return err
		}
		old, err := loadConfigs(ctx, tx)
		if err != nil {
			return err
		}
		if err := resetAffected(ctx, tx); err != nil {
			return err
		}
		for name := range old {
			if kept[name] {
				continue
			}
			if err := removeSource(ctx, tx, name); err != nil {
				return err
			}
			removed++
		}
		if removed == 0 {
			return nil
		}
		if _, err := rebuildAffected(ctx, tx); err != nil {
			return err
		}
		return bumpVersion(ctx, tx)
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: remove unnamed sources: %w", err)
	}
	return removed, nil
}

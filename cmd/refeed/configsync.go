package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/refeed/refeed/config"
	"github.com/refeed/refeed/storage"
)

// Config sync with several processes on one database. Each process
// registers its config's source names (storage.RegisterConfig) before it
// syncs, and renews the registration while it runs; a sync then never
// removes a source that another live process's config still names. So a
// rollout, with some instances on the old config file and some on the new
// one, loses nothing: a source added by the new config is kept while old
// instances run, and a source the new config dropped is removed once no
// instance runs a config with it (at the next sync, or at a renewal's
// sweep). Syncs and sweeps run under the "config-sync" named lease, one
// process at a time.
const (
	// configTTL is how long a registration lives unless renewed; a
	// process renews it every configTTL/3. A process killed without
	// unregistering stops protecting its sources after it.
	configTTL       = 3 * time.Minute
	configSyncLease = "config-sync"
	// configSyncWait bounds the wait for another process's sync.
	configSyncWait = 30 * time.Second
)

// registration is this process's config registration, renewed in the
// background until stop.
type registration struct {
	st    storage.Store
	owner string
	log   *slog.Logger

	mu    sync.Mutex
	names []string

	stop func()
	done chan struct{}
}

// sourceNames lists cfg's source names.
func sourceNames(cfg *config.Config) []string {
	names := make([]string, len(cfg.Sources))
	for i, s := range cfg.Sources {
		names[i] = s.Name
	}
	return names
}

// syncConfig registers cfg for owner and makes the stored sources match
// it, under the config-sync lease.
func syncConfig(ctx context.Context, st storage.Store, owner string, cfg *config.Config) error {
	if err := st.RegisterConfig(ctx, owner, sourceNames(cfg), configTTL); err != nil {
		return err
	}
	return underSyncLease(ctx, st, owner, true, func() error {
		return st.SyncSources(ctx, sourceConfigs(cfg))
	})
}

// underSyncLease runs fn holding the config-sync lease. With wait it waits
// (up to configSyncWait) for another holder; without, it skips fn.
func underSyncLease(ctx context.Context, st storage.Store, owner string, wait bool, fn func() error) error {
	deadline := time.Now().Add(configSyncWait)
	for {
		_, err := st.AcquireLease(ctx, configSyncLease, owner, configSyncWait)
		if err == nil {
			break
		}
		if !errors.Is(err, storage.ErrLeaseHeld) {
			return err
		}
		if !wait {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("another process held the %q lease for %v", configSyncLease, configSyncWait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	defer func() { _ = st.ReleaseLease(context.WithoutCancel(ctx), configSyncLease, owner) }()
	return fn()
}

// startRegistration renews the registration of names every configTTL/3,
// each time sweeping away the sources no live config names, until stop.
func startRegistration(st storage.Store, owner string, names []string, log *slog.Logger) *registration {
	ctx, cancel := context.WithCancel(context.Background())
	r := &registration{st: st, owner: owner, log: log, names: names, stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		t := time.NewTicker(configTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				r.renew(ctx)
			}
		}
	}()
	return r
}

func (r *registration) set(names []string) {
	r.mu.Lock()
	r.names = names
	r.mu.Unlock()
}

func (r *registration) renew(ctx context.Context) {
	r.mu.Lock()
	names := r.names
	r.mu.Unlock()
	if err := r.st.RegisterConfig(ctx, r.owner, names, configTTL); err != nil {
		r.log.Warn("renew config registration", "error", err)
		return
	}
	err := underSyncLease(ctx, r.st, r.owner, false, func() error {
		n, err := r.st.RemoveUnnamed(ctx)
		if n > 0 {
			r.log.Info("removed sources no running config names any more", "sources", n)
		}
		return err
	})
	if err != nil && ctx.Err() == nil {
		r.log.Warn("sweep sources", "error", err)
	}
}

// end stops the renewals and unregisters.
func (r *registration) end() {
	r.stop()
	<-r.done
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.st.UnregisterConfig(ctx, r.owner); err != nil {
		r.log.Warn("unregister config; it expires by itself", "error", err)
	}
}

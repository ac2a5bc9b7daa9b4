package storagetest

import (
	"time"

	"github.com/refeed/refeed/storage"
)

// names lists the stored sources' names.
func (f *fixture) names() []string {
	f.t.Helper()
	srcs, err := f.s.Sources(f.ctx)
	if err != nil {
		f.t.Fatalf("Sources: %v", err)
	}
	out := []string{}
	for _, s := range srcs {
		out = append(out, s.Name)
	}
	return out
}

func (f *fixture) register(owner string, ttl time.Duration, names ...string) {
	f.t.Helper()
	if err := f.s.RegisterConfig(f.ctx, owner, names, ttl); err != nil {
		f.t.Fatalf("RegisterConfig(%s): %v", owner, err)
	}
}

// testRegisteredConfigs is a rollout: an instance on the old config (a,
// b) and one on the new (a, c). Neither's sync removes what the other's
// config names; once the old one is gone (unregistered, or its
// registration expired), its sources go at the next sync or sweep.
func testRegisteredConfigs(f *fixture) {
	t := f.t
	f.register("old", time.Minute, "a", "b")
	f.sync(src("a", "x"), src("b", "x"))
	f.save("b", post("1", "of b", 1))

	f.register("new", time.Minute, "a", "c")
	f.sync(src("a", "x"), src("c", "y"))
	eq(t, "after the new config's sync", f.names(), []string{"a", "b", "c"})
	eq(t, "b's posts", f.titles(storage.Query{Source: "b"}), []string{"of b"})
	f.sync(src("a", "x"), src("b", "x")) // the old instance reloads its old config
	eq(t, "after the old config's sync", f.names(), []string{"a", "b", "c"})

	n, err := f.s.RemoveUnnamed(f.ctx)
	eq(t, "sweep while both run", n, 0)
	if err != nil {
		t.Fatalf("RemoveUnnamed: %v", err)
	}
	if err := f.s.UnregisterConfig(f.ctx, "old"); err != nil {
		t.Fatalf("UnregisterConfig: %v", err)
	}
	n, err = f.s.RemoveUnnamed(f.ctx)
	if err != nil {
		t.Fatalf("RemoveUnnamed: %v", err)
	}
	eq(t, "sweep after the old one left", n, 1)
	eq(t, "sources", f.names(), []string{"a", "c"})
	isNotFound(t, "b's post", func() error { _, err := f.s.Post(f.ctx, storage.PostID("b", "guid:1")); return err }())

	// An expired registration keeps nothing.
	f.register("old", time.Minute, "a", "c", "d")
	f.sync(src("a", "x"), src("c", "y"), src("d", "y"))
	f.register("new", time.Hour, "a", "c")
	f.clock.Advance(2 * time.Minute)
	f.sync(src("a", "x"), src("c", "y"))
	eq(t, "after old expired", f.names(), []string{"a", "c"})

	// With no live registration, a sweep removes nothing; a sync still
	// removes what its config lacks.
	f.clock.Advance(2 * time.Hour)
	n, _ = f.s.RemoveUnnamed(f.ctx)
	eq(t, "sweep with nobody registered", n, 0)
	eq(t, "sources", f.names(), []string{"a", "c"})
	f.sync(src("a", "x"))
	eq(t, "unregistered sync", f.names(), []string{"a"})
}

package storagetest

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/refeed/refeed/storage"
)

const lease = time.Minute

// claimDue asks for up to limit due sources for owner.
func (f *fixture) claimDue(owner string, limit int) []storage.Claim {
	f.t.Helper()
	cs, err := f.s.Claim(f.ctx, storage.ClaimRequest{Owner: owner, Lease: lease, Limit: limit})
	if err != nil {
		f.t.Fatalf("Claim(%s, %d): %v", owner, limit, err)
	}
	return cs
}

func claimed(cs []storage.Claim) []string {
	var names []string
	for _, c := range cs {
		names = append(names, c.Source)
	}
	sort.Strings(names)
	return names
}

// polled saves c as a successful poll due again after next.
func (f *fixture) polled(c storage.Claim, next time.Duration, posts ...storage.Post) {
	f.t.Helper()
	st := c.State
	st.Status, st.LastPoll, st.NextPoll = storage.StatusOK, f.clock.Now(), f.clock.Now().Add(next)
	if _, err := f.s.SavePoll(f.ctx, c, st, posts); err != nil {
		f.t.Fatalf("SavePoll(%s): %v", c.Source, err)
	}
}

// testClaimDue: new sources are due; a claim takes at most Limit, never a
// leased one, earliest due first; tokens grow; a saved poll is due again
// at its NextPoll.
func testClaimDue(f *fixture) {
	t := f.t
	f.sync(src("a", "x"), src("b", "x"), src("c", "x"))
	one := f.claimDue("p", 1)
	eq(t, "claim of one", len(one), 1)
	rest := f.claimDue("p", 5)
	eq(t, "second claim", len(rest), 2)
	eq(t, "third claim (all leased)", len(f.claimDue("q", 5)), 0)
	if rest[0].Token <= one[0].Token {
		t.Errorf("token did not grow: %d then %d", one[0].Token, rest[0].Token)
	}
	first := append(one, rest...)
	for _, c := range first {
		if c.Until.Sub(c.Claimed) != lease {
			t.Errorf("claim of %s: lease %v, want %v", c.Source, c.Until.Sub(c.Claimed), lease)
		}
		f.polled(c, time.Hour)
	}
	eq(t, "claim after polls due in an hour", len(f.claimDue("p", 5)), 0)
	f.clock.Advance(2 * time.Hour)
	again := f.claimDue("p", 5)
	eq(t, "due again after their NextPoll", claimed(again), []string{"a", "b", "c"})
	eq(t, "state handed out with the claim", again[0].State.Status, storage.StatusOK)

	// Earliest due first.
	f.sync(src("d", "x"), src("e", "x"))
	d, e := Claim(t, f.s, "d"), Claim(t, f.s, "e")
	f.polled(e, time.Minute)
	f.polled(d, 2*time.Minute)
	f.clock.Advance(3 * time.Minute)
	eq(t, "earliest due first", claimed(f.claimDue("p", 1)), []string{"e"})
}

// testClaimNames: Names restricts a claim; Force takes sources that are not
// due and gone ones; nothing takes a leased one; DueBy replaces now.
func testClaimNames(f *fixture) {
	t := f.t
	f.sync(src("a", "x"), src("b", "x"), src("gone", "x"))
	for _, name := range []string{"a", "b", "gone"} {
		c := Claim(t, f.s, name)
		st := storage.SourceState{Status: storage.StatusOK, LastPoll: f.clock.Now(), NextPoll: f.clock.Now().Add(time.Hour)}
		if name == "gone" {
			st.Status, st.NextPoll = storage.StatusGone, time.Time{}
		}
		if _, err := f.s.SavePoll(f.ctx, c, st, nil); err != nil {
			t.Fatal(err)
		}
	}
	req := storage.ClaimRequest{Owner: "p", Lease: lease, Limit: 10, Names: []string{"a", "gone", "nope"}}
	cs, err := f.s.Claim(f.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "named, not due", len(cs), 0)
	f.clock.Advance(2 * time.Hour)
	cs, err = f.s.Claim(f.ctx, storage.ClaimRequest{Owner: "p", Lease: lease, Limit: 10, DueBy: f.clock.Now().Add(-90 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "due by a time before their NextPoll", len(cs), 0)
	cs, err = f.s.Claim(f.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "named and due (gone never is)", claimed(cs), []string{"a"})
	req.Force, req.Names = true, []string{"a", "b", "gone"}
	cs, err = f.s.Claim(f.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "forced: not due and gone too, but not leased", claimed(cs), []string{"b", "gone"})
	if err := f.s.Release(f.ctx, cs); err != nil {
		t.Fatal(err)
	}
	req.Names = nil
	cs, err = f.s.Claim(f.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "forced without names: all but the leased", claimed(cs), []string{"b", "gone"})
	if err := f.s.Release(f.ctx, cs); err != nil {
		t.Fatal(err)
	}
	req.Limit, req.After = 1, "b"
	cs, err = f.s.Claim(f.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "forced after a cursor, in name order", claimed(cs), []string{"gone"})
}

// testClaimersNeverShare: claimers racing over many sources each get
// different ones, and together all of them.
func testClaimersNeverShare(f *fixture) {
	t := f.t
	var cfg []storage.SourceConfig
	for i := range 40 {
		cfg = append(cfg, src(fmt.Sprintf("s%02d", i), "x"))
	}
	f.sync(cfg...)
	var mu sync.Mutex
	seen := map[string]string{}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		owner := fmt.Sprint("owner", w)
		wg.Go(func() {
			for {
				cs, err := f.s.Claim(f.ctx, storage.ClaimRequest{Owner: owner, Lease: lease, Limit: 3})
				if err != nil {
					errs <- err
					return
				}
				if len(cs) == 0 {
					return
				}
				mu.Lock()
				for _, c := range cs {
					if prev, ok := seen[c.Source]; ok {
						errs <- fmt.Errorf("%s claimed by %s and %s", c.Source, prev, owner)
					}
					seen[c.Source] = owner
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	eq(t, "sources claimed", len(seen), 40)
}

// testLeaseTakeover: an expired lease is claimed by another owner with a
// larger token.
func testLeaseTakeover(f *fixture) {
	t := f.t
	f.sync(src("a", "x"))
	old := f.claimDue("dead", 1)
	eq(t, "first claim", claimed(old), []string{"a"})
	f.clock.Advance(lease - time.Second)
	eq(t, "claim while the lease lives", len(f.claimDue("alive", 1)), 0)
	f.clock.Advance(2 * time.Second)
	cs := f.claimDue("alive", 1)
	eq(t, "claim after the lease expired", claimed(cs), []string{"a"})
	if cs[0].Token <= old[0].Token {
		t.Errorf("takeover token %d not above %d", cs[0].Token, old[0].Token)
	}
}

// testFencedSave: a poller whose lease was taken over writes nothing, and
// gets ErrLeaseLost; the new holder's state and posts stand.
func testFencedSave(f *fixture) {
	t := f.t
	f.sync(src("a", "x"))
	stale := f.claimDue("stalled", 1)[0]
	f.clock.Advance(lease + time.Second)
	fresh := f.claimDue("other", 1)[0]
	f.polled(fresh, time.Hour, post("new", "from the new holder", 1))
	v := f.version()

	st := storage.SourceState{Status: storage.StatusOK, ETag: `"stale"`, LastPoll: f.clock.Now()}
	_, err := f.s.SavePoll(f.ctx, stale, st, []storage.Post{post("old", "from the stalled poller", 2)})
	if !errors.Is(err, storage.ErrLeaseLost) {
		t.Fatalf("stale SavePoll: %v, want ErrLeaseLost", err)
	}
	eq(t, "posts", f.titles(storage.Query{}), []string{"from the new holder"})
	eq(t, "etag", f.source("a").State.ETag, "")
	eq(t, "status", f.source("a").State.Status, storage.StatusOK)
	eq(t, "version after a fenced save", f.version(), v)

	// The holder's own second save is fenced too: the first ended the claim
	// but a claim is only ever saved once per token after a takeover.
	f.clock.Advance(2 * time.Hour)
	again := f.claimDue("other", 1)[0]
	if _, err := f.s.SavePoll(f.ctx, fresh, st, nil); !errors.Is(err, storage.ErrLeaseLost) {
		t.Errorf("save of an older claim after a new one: %v, want ErrLeaseLost", err)
	}
	f.polled(again, time.Hour)
}

// testRelease: a released source is claimable again at once; releasing a
// claim that was taken over leaves the new holder's lease alone.
func testRelease(f *fixture) {
	t := f.t
	f.sync(src("a", "x"), src("b", "x"))
	cs := f.claimDue("p", 2)
	if err := f.s.Release(f.ctx, cs[:1]); err != nil {
		t.Fatal(err)
	}
	eq(t, "claim after release", claimed(f.claimDue("q", 2)), []string{cs[0].Source})
	f.clock.Advance(lease + time.Second)
	taken := f.claimDue("r", 2)
	eq(t, "expired leases taken over", len(taken), 2)
	if err := f.s.Release(f.ctx, cs); err != nil {
		t.Fatal(err)
	}
	eq(t, "claim after a stale release", len(f.claimDue("q", 2)), 0)
	if err := f.s.Release(f.ctx, nil); err != nil {
		t.Errorf("Release(nil): %v", err)
	}
}

// testNextDue: how long until the next claimable source.
func testNextDue(f *fixture) {
	t := f.t
	next := func() (time.Duration, bool) {
		t.Helper()
		d, ok, err := f.s.NextDue(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		return d, ok
	}
	if _, ok := next(); ok {
		t.Errorf("NextDue without sources: ok")
	}
	f.sync(src("a", "x"), src("b", "x"))
	if d, ok := next(); !ok || d != 0 {
		t.Errorf("NextDue with new sources: %v, %v; want 0, true", d, ok)
	}
	cs := f.claimDue("p", 2)
	if d, ok := next(); !ok || d < lease-time.Second || d > lease {
		t.Errorf("NextDue with both leased: %v, %v; want about %v", d, ok, lease)
	}
	f.polled(cs[0], 10*time.Minute)
	st := cs[1].State
	st.Status = storage.StatusGone
	if _, err := f.s.SavePoll(f.ctx, cs[1], st, nil); err != nil {
		t.Fatal(err)
	}
	if d, ok := next(); !ok || d < 10*time.Minute-time.Second || d > 10*time.Minute {
		t.Errorf("NextDue: %v, %v; want about 10m (gone sources never come due)", d, ok)
	}
	f.clock.Advance(time.Hour)
	if d, ok := next(); !ok || d != 0 {
		t.Errorf("NextDue when overdue: %v, %v; want 0, true", d, ok)
	}
}

// testNamedLease: one owner at a time; renewals keep the token; a takeover
// after expiry raises it; release frees it for others.
func testNamedLease(f *fixture) {
	t := f.t
	acquire := func(owner string) (storage.Lease, error) {
		return f.s.AcquireLease(f.ctx, "retention", owner, lease)
	}
	a, err := acquire("a")
	if err != nil {
		t.Fatalf("first acquire: %v", err)
	}
	if _, err := acquire("b"); !errors.Is(err, storage.ErrLeaseHeld) {
		t.Errorf("acquire of a held lease: %v, want ErrLeaseHeld", err)
	}
	if _, err := f.s.AcquireLease(f.ctx, "config-sync", "b", lease); err != nil {
		t.Errorf("another name: %v", err)
	}
	f.clock.Advance(lease / 2)
	renewed, err := acquire("a")
	if err != nil || renewed.Token != a.Token || !renewed.Until.After(a.Until) {
		t.Errorf("renewal: %+v, %v; want token %d and a later end than %v", renewed, err, a.Token, a.Until)
	}
	f.clock.Advance(lease + time.Second)
	b, err := acquire("b")
	if err != nil || b.Token <= a.Token {
		t.Fatalf("takeover after expiry: %+v, %v (old token %d)", b, err, a.Token)
	}
	if err := f.s.ReleaseLease(f.ctx, "retention", "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := acquire("a"); !errors.Is(err, storage.ErrLeaseHeld) {
		t.Errorf("a stale owner's release freed the lease: %v", err)
	}
	if err := f.s.ReleaseLease(f.ctx, "retention", "b"); err != nil {
		t.Fatal(err)
	}
	if got, err := acquire("a"); err != nil || got.Token <= b.Token {
		t.Errorf("acquire after release: %+v, %v", got, err)
	}
}

// testShortenedInterval: a config change that shortens a source's interval
// makes it due at LastPoll + the new interval, not at the NextPoll the old
// one gave; a NextPoll set by a hint or backoff stays.
func testShortenedInterval(f *fixture) {
	t := f.t
	a, b := src("a", "x"), src("b", "x")
	f.sync(a, b)
	last := f.clock.Now()
	for _, tc := range []struct {
		name     string
		next     time.Duration
		failures int
	}{{"a", 31 * time.Minute, 0}, {"b", 31 * time.Minute, 2}} {
		st := storage.SourceState{Status: storage.StatusOK, LastPoll: last, NextPoll: last.Add(tc.next), Failures: tc.failures}
		if _, err := f.s.SavePoll(f.ctx, f.claim(tc.name), st, nil); err != nil {
			t.Fatal(err)
		}
	}
	a.Interval, b.Interval = 5*time.Minute, 5*time.Minute
	f.sync(a, b)
	sameTime(t, "a's next poll after its interval was shortened", f.source("a").State.NextPoll, last.Add(5*time.Minute))
	sameTime(t, "b's next poll (backing off) after its interval was shortened", f.source("b").State.NextPoll, last.Add(31*time.Minute))
	f.clock.Advance(6 * time.Minute)
	eq(t, "due after the new interval", claimed(f.claimDue("p", 5)), []string{"a"})
}

package storage

import (
	"slices"
	"strings"
	"time"
)

// ClaimRequest says which sources Claim may lease, to whom and for how long.
type ClaimRequest struct {
	Owner string        // who polls: a process's name, unique among the processes on one database
	Lease time.Duration // how long the claim holds before another poller may take the source over (> 0)
	Limit int           // at most this many sources (> 0)
	// Names, if set, restricts the claim to these sources.
	Names []string
	// DueBy, if set, replaces the store's now in "due": a run that polls
	// what was due when it began passes the Claimed time of its first
	// claim, so that sources it polled already are not due again for it.
	DueBy time.Time
	// Force claims Names whether due or gone (refeed poll -force); live
	// leases still hold. Without Names it claims every source, in name
	// order, after After: a forced run passes the last name it claimed.
	Force bool
	After string
}

// Claim is a source leased to one poller: its poll state as stored, and the
// fencing token that SavePoll checks.
type Claim struct {
	Source  string
	Token   int64     // larger than every token handed out before this claim
	Claimed time.Time // the store's now when it was claimed
	Until   time.Time // the lease's end, by the store's clock
	State   SourceState
}

// Lease is a named lease for singleton work, held until Until by the
// store's clock.
type Lease struct {
	Name  string
	Owner string
	Token int64 // grows whenever the lease changes hands
	Until time.Time
}

// Rescheduled is when a source is due after a config change shortened its
// interval from old to cur: min(NextPoll, LastPoll+cur), so that it does not
// wait out the old interval. It applies only when NextPoll came from the old
// interval alone (at most 1.5 × old after LastPoll, the longest a spread
// first round gives, and no failures): a later NextPoll was set by a hint
// (max-age, ttl), Retry-After or backoff, which still hold.
func Rescheduled(st SourceState, old, cur time.Duration) time.Time {
	if cur >= old || old <= 0 || cur <= 0 || st.LastPoll.IsZero() || st.NextPoll.IsZero() || st.Failures > 0 {
		return st.NextPoll
	}
	if st.NextPoll.Sub(st.LastPoll) > old+old/2 {
		return st.NextPoll
	}
	if t := st.LastPoll.Add(cur); t.Before(st.NextPoll) {
		return t
	}
	return st.NextPoll
}

// SortClaims puts claims in the order Claim returns them: earliest due
// first, then by name.
func SortClaims(claims []Claim) {
	slices.SortFunc(claims, func(a, b Claim) int {
		if c := a.State.NextPoll.Compare(b.State.NextPoll); c != 0 {
			return c
		}
		return strings.Compare(a.Source, b.Source)
	})
}

package aggregator

import (
	"hash/fnv"
	"time"

	"github.com/refeed/refeed/storage"
)

// maxBackoff caps the wait after repeated failures.
const maxBackoff = 24 * time.Hour

// jitter returns d moved by up to ±10%, deterministically from the source
// name and the time, so many sources with one interval spread out.
func jitter(d time.Duration, name string, now time.Time) time.Duration {
	h := fnv.New64a()
	h.Write([]byte(name))
	var b [8]byte
	u := uint64(now.UnixNano())
	for i := range b {
		b[i] = byte(u >> (8 * i))
	}
	h.Write(b[:])
	f := float64(h.Sum64()%2001)/10000 - 0.1 // [-0.1, +0.1]
	return d + time.Duration(float64(d)*f)
}

// nextAfterSuccess is when a source that answered (200 or 304) is next due:
// its interval give or take 10%, but no sooner than the hints the answer gave
// (Cache-Control max-age, Retry-After, RSS ttl, sy:updatePeriod), each capped
// at a day.
func nextAfterSuccess(name string, interval time.Duration, now time.Time, hints ...time.Duration) time.Time {
	d := jitter(interval, name, now)
	for _, h := range hints {
		d = max(d, min(h, maxHint))
	}
	return now.Add(d)
}

// nextAfterFailure backs off exponentially: interval·2^(failures-1) with
// jitter, capped at a day, and no sooner than Retry-After (capped at a day).
func nextAfterFailure(name string, interval time.Duration, failures int, now time.Time, retryAfter time.Duration) time.Time {
	d := interval
	for i := 1; i < failures && d < maxBackoff; i++ {
		d *= 2
	}
	d = min(jitter(min(d, maxBackoff), name, now), maxBackoff)
	d = max(d, min(retryAfter, maxHint))
	return now.Add(d)
}

// due reports whether a source is due at now. Gone sources never are.
func due(st storage.SourceState, now time.Time) bool {
	if st.Status == storage.StatusGone {
		return false
	}
	return st.NextPoll.IsZero() || !now.Before(st.NextPoll)
}

// interval is the source's interval, or the default when unset.
func interval(s Source) time.Duration {
	if s.Interval > 0 {
		return s.Interval
	}
	return DefaultInterval
}

// rescheduled is when a source is due after a config reload shortened its
// interval from old to cur: min(NextPoll, LastPoll+cur), so that it does
// not wait out the old interval. It applies only when NextPoll came from
// the old interval alone (at most old+10% after LastPoll): a later NextPoll
// was set by a hint (max-age, ttl), Retry-After or backoff, which still hold.
func rescheduled(st storage.SourceState, old, cur time.Duration) time.Time {
	if cur >= old || st.LastPoll.IsZero() || st.NextPoll.IsZero() {
		return st.NextPoll
	}
	if st.NextPoll.Sub(st.LastPoll) > old+old/10 {
		return st.NextPoll
	}
	if t := st.LastPoll.Add(cur); t.Before(st.NextPoll) {
		return t
	}
	return st.NextPoll
}

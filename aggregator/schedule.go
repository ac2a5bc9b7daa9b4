package aggregator

import (
	"hash/fnv"
	"time"

	"github.com/refeed/refeed/storage"
)

// maxBackoff caps the wait after repeated failures.
const maxBackoff = 24 * time.Hour

// jitter returns d moved by up to ±10%, deterministically from the source
// name and the time, so that sources failing together do not retry
// together.
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
// at the next point of its own phase in the interval (spread), but no sooner
// than the hints the answer gave (Cache-Control max-age, Retry-After, RSS
// ttl, sy:updatePeriod), each capped at a day.
func nextAfterSuccess(name string, interval time.Duration, now time.Time, hints ...time.Duration) time.Time {
	d := spread(name, interval, now)
	for _, h := range hints {
		d = max(d, min(h, maxHint))
	}
	return now.Add(d)
}

// spread is how long from now until the source's next poll: the next time
// whose offset in the interval (counted from the Unix epoch) is the
// source's phase, a point in [0, interval) derived from a hash of its name,
// and at least half an interval away. A source polled on time is next due
// exactly one interval later (less the poll's latency); a source polled off
// its phase (its first poll, the first after a restart, a failure or a
// hint) waits between 0.5 and 1.5 intervals and is then back on its phase.
// So sources first polled together, or all at once after a pause, spread
// evenly over the interval after one round, and stay spread.
func spread(name string, interval time.Duration, now time.Time) time.Duration {
	if interval <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(name))
	phase := int64(h.Sum64() % uint64(interval))
	at := now.UnixNano() % int64(interval)
	if at < 0 {
		at += int64(interval)
	}
	d := time.Duration((phase - at + int64(interval)) % int64(interval))
	if d < interval/2 {
		d += interval
	}
	return d
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

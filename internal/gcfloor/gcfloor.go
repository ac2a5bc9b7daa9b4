// Package gcfloor keeps the Go garbage collector from running on a small
// heap far more often than it needs to, by giving it a memory floor.
//
// With the default GOGC of 100 the collector runs whenever the heap has
// doubled since the last cycle. A poll keeps little alive for long (a few
// feeds being parsed, a few batches of posts waiting for the writer: 5-9 MB
// in bench/ingest) but allocates a lot (about 2 GB for 25,000 posts), so it
// ran the collector about 380 times per poll, every 5-6 MB. A fixed memory
// limit with the collector otherwise off (GOMEMLIMIT=28MiB GOGC=off) runs it
// every 15-20 MB instead, for no more peak RSS (the runtime returns freed
// memory to stay under the limit) — but with a fixed limit, a live heap
// that outgrows it (a serve process with a big render cache, a poll of huge
// feeds) would have the collector run back to back. So the limit here moves:
// after every collection it is set to twice the live heap plus the
// runtime's own overhead, which is what GOGC=100 would allow, or to the
// floor, whichever is more. A big heap is paced as Go paces it; a small one
// gets the floor.
package gcfloor

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// Limit is the memory limit for a live heap of live bytes when the runtime
// needs overhead bytes besides the heap: what GOGC=100 would let the heap
// grow to (twice the live heap) plus the overhead, or floor if that is more.
func Limit(live, overhead, floor uint64) uint64 {
	return max(2*live+overhead, floor)
}

// metric names read after each collection.
const (
	liveHeap = "/gc/heap/live:bytes"
	total    = "/memory/classes/total:bytes"
	objects  = "/memory/classes/heap/objects:bytes"
	unused   = "/memory/classes/heap/unused:bytes"
	free     = "/memory/classes/heap/free:bytes"
	released = "/memory/classes/heap/released:bytes"
	nMetrics = 6
	noLimit  = math.MaxInt64
	gcOff    = -1
)

// Default is the floor refeed runs with. A poll's garbage is short-lived
// and its live heap small: in bench/ingest (25,000 posts) a floor of 28 MiB
// ran the collector about 160 instead of 380 times at the same peak RSS as
// GOGC=100; each 4 MiB more saved about 0.2 CPU-s for 4 MiB of RSS. 36 MiB,
// with the SQLite writer's page cache cut to 4 MB (storage/sqlite), peaks at
// the same 59 MiB as 28 MiB did with 8 MB.
const Default = 36 << 20

// StartUnlessSet is Start, unless the GOGC or GOMEMLIMIT environment
// variable is set: then whoever runs the program has chosen, and it returns
// nil.
func StartUnlessSet(floor uint64) *Tuner {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return nil
	}
	return Start(floor)
}

// Tuner sets the memory limit after every garbage collection; see Start.
type Tuner struct {
	floor     uint64
	sample    [nMetrics]metrics.Sample
	mu        sync.Mutex
	stopped   bool
	prevGC    int
	prevLimit int64
}

// Start gives the collector a memory floor of floor bytes (total memory the
// Go runtime holds, as GOMEMLIMIT counts it) until Stop: GOGC is turned off
// and the memory limit follows Limit.
func Start(floor uint64) *Tuner {
	t := &Tuner{floor: floor}
	for i, name := range [nMetrics]string{liveHeap, total, objects, unused, free, released} {
		t.sample[i].Name = name
	}
	t.prevLimit = debug.SetMemoryLimit(-1)
	t.tune() // sets the limit before the collector is turned off
	t.prevGC = debug.SetGCPercent(gcOff)
	t.arm()
	return t
}

// sentinel is what arm watches. It holds a pointer so that it is never a
// tiny allocation sharing a block (and a lifetime) with other objects.
type sentinel struct {
	_ *byte
	_ [8]byte
}

// arm registers a cleanup on a new, unreachable object: it runs after the
// next collection that finds it, re-tunes, and arms again.
func (t *Tuner) arm() {
	runtime.AddCleanup(new(sentinel), func(t *Tuner) {
		if t.tune() {
			t.arm()
		}
	}, t)
}

// tune sets the limit for the live heap the last collection left; false
// once stopped.
func (t *Tuner) tune() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return false
	}
	metrics.Read(t.sample[:])
	v := func(i int) uint64 {
		if t.sample[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return t.sample[i].Value.Uint64()
	}
	heap := v(2) + v(3) + v(4) + v(5)
	var overhead uint64
	if v(1) > heap {
		overhead = v(1) - heap
	}
	debug.SetMemoryLimit(int64(min(Limit(v(0), overhead, t.floor), noLimit)))
	return true
}

// Stop stops tuning and restores GOGC and the memory limit from before
// Start.
func (t *Tuner) Stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.stopped {
		t.stopped = true
		debug.SetGCPercent(t.prevGC)
		debug.SetMemoryLimit(t.prevLimit)
	}
}

// Package gcfloor keeps the Go garbage collector from running on a small
// heap far more often than it needs to, by giving it a memory floor.
//
// A poll keeps little alive but allocates a lot, so GOGC=100 collects every
// few megabytes; a fixed GOMEMLIMIT would collect back to back once a live
// heap outgrows it. So GOGC is turned off and the memory limit moves: after
// every collection it is what GOGC=100 would allow (twice the live heap plus
// the runtime's overhead), or the floor, whichever is more. The figures are
// in the README (Ingest) and come from bench/ingest/run.sh.
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

// Default is the floor refeed runs with, chosen with bench/ingest/run.sh:
// the fewest collections for the peak RSS target (README, Ingest).
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

package gcfloor

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"
)

func TestLimit(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name                  string
		live, overhead, floor uint64
		want                  uint64
	}{
		{"nothing live: the floor", 0, 6 * mib, 28 * mib, 28 * mib},
		{"small heap: the floor", 8 * mib, 6 * mib, 28 * mib, 28 * mib},
		{"just at the floor", 11 * mib, 6 * mib, 28 * mib, 28 * mib},
		{"bigger heap: as GOGC=100", 40 * mib, 6 * mib, 28 * mib, 86 * mib},
		{"no floor", 8 * mib, 6 * mib, 0, 22 * mib},
	}
	for _, tt := range tests {
		if got := Limit(tt.live, tt.overhead, tt.floor); got != tt.want {
			t.Errorf("%s: Limit(%d, %d, %d) = %d, want %d", tt.name, tt.live, tt.overhead, tt.floor, got, tt.want)
		}
	}
}

// gcDefault is Go's default GOGC.
const gcDefault = 100

var (
	sink []byte
	keep [][]byte
)

// churn allocates n bytes of short-lived garbage and returns how many
// collections ran meanwhile.
func churn(n int) uint32 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.NumGC
	for range n / (64 << 10) {
		sink = make([]byte, 64<<10)
	}
	runtime.ReadMemStats(&ms)
	return ms.NumGC - before
}

// TestStartCollectsLess checks what the floor is for: the same garbage on a
// small live heap takes several times fewer collections with a 64 MiB floor
// than with GOGC=100, the heap stays within the floor, and Stop restores
// the settings from before.
func TestStartCollectsLess(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(gcDefault))
	runtime.GC()
	plain := churn(512 << 20)

	tu := Start(64 << 20)
	runtime.GC()
	tuned := churn(512 << 20)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	tu.Stop()
	t.Logf("collections for 512 MiB of garbage: GOGC=100 %d, floor 64 MiB %d; heap goal %d MiB", plain, tuned, ms.NextGC>>20)
	if tuned*4 > plain {
		t.Errorf("%d collections with the floor, %d without: want at least 4 times fewer", tuned, plain)
	}
	if ms.NextGC > 64<<20 {
		t.Errorf("heap goal %d MiB, want at most the 64 MiB floor", ms.NextGC>>20)
	}
	if got := debug.SetGCPercent(gcDefault); got != gcDefault {
		t.Errorf("GOGC after Stop = %d, want the %d from before Start", got, gcDefault)
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("memory limit after Stop = %d, want none", got)
	}
}

// TestStartFollowsABigHeap checks that a live heap above the floor is paced
// as GOGC=100 would pace it, not collected back to back.
func TestStartFollowsABigHeap(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(gcDefault))
	tu := Start(16 << 20)
	defer tu.Stop()
	for range 64 { // 64 MiB live, four times the floor
		keep = append(keep, make([]byte, 1<<20))
	}
	defer func() { keep = nil }()
	runtime.GC()
	runtime.GC() // the first cycle's cleanup has run by the second's end
	n := churn(256 << 20)
	// GOGC=100 on a 64 MiB live heap: a collection per 64 MiB or so.
	t.Logf("collections for 256 MiB of garbage on a 64 MiB live heap: %d", n)
	if n > 16 {
		t.Errorf("%d collections: the limit did not follow the live heap", n)
	}
}

// TestStartUnlessSet checks that GOGC or GOMEMLIMIT in the environment
// leaves the collector alone.
func TestStartUnlessSet(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(gcDefault))
	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, "100")
			if tu := StartUnlessSet(Default); tu != nil {
				tu.Stop()
				t.Errorf("StartUnlessSet with %s set: started", env)
			}
			if got := debug.SetGCPercent(gcDefault); got != gcDefault {
				t.Errorf("GOGC = %d, want %d untouched", got, gcDefault)
			}
		})
	}
	t.Run("neither", func(t *testing.T) {
		t.Setenv("GOGC", "")
		t.Setenv("GOMEMLIMIT", "")
		tu := StartUnlessSet(Default)
		if tu == nil {
			t.Fatal("StartUnlessSet with neither set: not started")
		}
		tu.Stop()
	})
}

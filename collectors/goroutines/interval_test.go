package goroutines

import (
	"runtime"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/internal/cputime"
)

// TestRefreshInterval checks that the interval follows the least of the
// last refreshes' costs, so that one refresh slowed by a loaded machine
// (its wall time counts the wait for a core) does not stop the table for
// half a minute, while a refresh that is costly every time is still
// spaced by the CPU budget.
func TestRefreshInterval(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name  string
		costs []time.Duration
		want  time.Duration
	}{
		{"a slow first refresh waits at most the settle interval", []time.Duration{294 * ms}, settleInterval},
		{"one slow refresh among fast ones", []time.Duration{3 * ms, 294 * ms, 5 * ms}, 2 * time.Second},
		{"costly every time", []time.Duration{300 * ms, 310 * ms, 320 * ms}, 30 * time.Second},
		{"cheap", []time.Duration{ms}, 2 * time.Second},
		{"slow after the fast ones left", []time.Duration{100 * ms, 150 * ms, 120 * ms}, 10 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := refreshInterval(tc.costs, 2*time.Second, 0.01); got != tc.want {
				t.Fatalf("refreshInterval(%v) = %s, want %s", tc.costs, got, tc.want)
			}
		})
	}
}

// TestLeakCPU checks the cost a goroutineleak read charges the budget: the
// CPU a GC cycle takes from the program plus the calling thread's, which
// grows across a GC and never by more than every core for the wall time.
func TestLeakCPU(t *testing.T) {
	if !cputime.PerThread {
		t.Skip("no per-thread CPU clock here: the read's wall time is used")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before := leakCPU()
	start := time.Now()
	runtime.GC()
	wall := time.Since(start)
	after := leakCPU()
	if !before.ok || !after.ok {
		t.Fatal("the runtime does not tell the GC's CPU")
	}
	d := after.d - before.d
	if d <= 0 || d > wall*time.Duration(runtime.GOMAXPROCS(0))+time.Millisecond {
		t.Fatalf("a GC cycle cost %v of CPU in %v of wall time on %d Ps", d, wall, runtime.GOMAXPROCS(0))
	}
}

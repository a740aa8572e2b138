package goroutines

import (
	"context"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/internal/workload"
	"github.com/asyncmon/asyncmon/model"
)

// TestLeakReadSkippedAboveBound: where even the lowest per-goroutine
// pause would break LeakMaxPause, suspicion never makes the collector
// read the goroutineleak profile (whose pause grows with the goroutine
// count: seconds at 1M), not even once per LeakInterval, and the leak
// check says so. Under a bound the process fits, the same suspects are
// read.
func TestLeakReadSkippedAboveBound(t *testing.T) {
	// A build feature, not a missing program: Go 1.26 without the
	// experiment has no such profile (scripts/test.sh runs this test
	// again with GOEXPERIMENT=goroutineleakprofile there).
	if pprof.Lookup(leakProfileName) == nil {
		t.Skip("no goroutineleak profile: needs Go 1.27, or GOEXPERIMENT=goroutineleakprofile on Go 1.26")
	}
	// 300 goroutines blocked in a receive: a suspect group. At 0.5 µs
	// per goroutine at best, their read would pause more than 100 µs.
	w := workload.Start(workload.Counts{Recv: 300})
	defer w.Stop()
	check := func(bound time.Duration) *model.LeakCheck {
		c := NewCollector(Options{MaxPause: -1, SuspectAfter: time.Millisecond, LeakEvery: time.Millisecond,
			LeakMaxPause: bound, LeakInterval: 10 * time.Millisecond, CPUBudget: 1})
		for range 10 {
			if _, err := c.Refresh(context.Background()); err != nil {
				t.Fatal(err)
			}
			time.Sleep(15 * time.Millisecond) // past LeakInterval each time
		}
		var s model.Snapshot
		if err := c.Collect(context.Background(), &s); err != nil {
			t.Fatal(err)
		}
		return s.LeakCheck
	}
	if lc := check(100 * time.Microsecond); lc == nil || !lc.Time.IsZero() || lc.Suspects == 0 ||
		!strings.Contains(lc.Limited, "not read on suspicion") {
		t.Errorf("bound 100µs: leak check = %+v, want suspects, no read, and why", lc)
	}
	if lc := check(time.Second); lc == nil || lc.Time.IsZero() || lc.Limited != "" {
		t.Errorf("bound 1s: leak check = %+v, want a read", lc)
	}
}

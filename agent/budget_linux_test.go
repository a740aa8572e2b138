package agent

import (
	"context"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/internal/cputime"
	"github.com/asyncmon/asyncmon/model"
)

// spin is a collector that burns d of CPU time on the collecting thread,
// measured on that thread's CPU clock, so a loaded machine makes it slower
// but not cheaper.
type spin struct{ d time.Duration }

func (s spin) Name() string { return "spin" }
func (s spin) Collect(ctx context.Context, _ *model.Snapshot) error {
	start, ok := cputime.Thread()
	for ok { // ignores ctx: a collector that overruns its interval
		now, _ := cputime.Thread()
		if now-start >= s.d {
			break
		}
	}
	return nil
}

// TestBudgetStretchesInterval runs a collector that burns 15 ms of CPU per
// cycle with a 20 ms interval and a 25% budget: the agent must slow to
// about one cycle per 60 ms, and all collectors still run every cycle.
// Only the lower bound is checked here, which a loaded machine cannot
// break (it only makes cycles later); the cap of maxStretch intervals is
// TestNextWait's, on the computed wait rather than the wall clock.
func TestBudgetStretchesInterval(t *testing.T) {
	a := start(t, Options{Interval: 20 * time.Millisecond, CPUBudget: 0.25, Collectors: []model.Collector{spin{15 * time.Millisecond}}})
	s := waitSeq(t, a, 12)
	if s.IntervalSeconds < 0.05 {
		t.Errorf("interval %.3fs with a 15ms collector under a 25%% budget, want >= 0.05s", s.IntervalSeconds)
	}
	ran := map[string]bool{}
	for _, c := range s.Collectors {
		ran[c.Name] = !c.Skipped
	}
	if !ran["spin"] || !ran["scheduler"] || !ran["runtime"] || s.Scheduler.ProbePeriod == 0 || s.Goroutines.Total == 0 {
		t.Errorf("stretched snapshot is incomplete: collectors %v", ran)
	}
}

// TestBudgetSaysItStretched: cycles that cost more than the budget mark
// the snapshots after a stretched wait and count the stretches, and the
// cycles' CPU is totalled for the metric.
func TestBudgetSaysItStretched(t *testing.T) {
	a := start(t, Options{Interval: 20 * time.Millisecond, CPUBudget: 0.05, Collectors: []model.Collector{spin{5 * time.Millisecond}}})
	// At seq 5 the loop has finished the cycles of seq 2 to 4 (a snapshot
	// is published before its cycle's CPU is added).
	s := waitSeq(t, a, 5)
	if !s.BudgetStretched || a.stretches.Load() == 0 {
		t.Errorf("5 ms of CPU per 20 ms cycle with a 5%% budget: stretched %v, %d stretches; want the waits stretched", s.BudgetStretched, a.stretches.Load())
	}
	if a.cycleCPU.Load() < int64(3*5*time.Millisecond) {
		t.Errorf("collection CPU total %v after 3 cycles of 5 ms, want at least 15 ms", time.Duration(a.cycleCPU.Load()))
	}
}

// TestWaitingCycleCostsNoCPU: a cycle that is slow in wall time but waits
// (the process is starved, or a collector waits on I/O) is charged its CPU
// time, a small part of its wall time, so the budget does not stretch the
// interval when sampling matters most. TestNextWait checks that a cheap
// cost keeps the interval whatever the wall time.
func TestWaitingCycleCostsNoCPU(t *testing.T) {
	w := slow{20 * time.Millisecond}
	var wall time.Duration
	cost := cputime.Cost(func() {
		start := time.Now()
		_ = w.Collect(context.Background(), nil)
		wall = time.Since(start)
	})
	if cost*4 > wall {
		t.Errorf("a cycle that waited %v was charged %v of CPU, want under a quarter of its wall time", wall, cost)
	}
}

package detectors_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/collectors/goroutines"
	"github.com/asyncmon/asyncmon/detectors"
	"github.com/asyncmon/asyncmon/findings"
	"github.com/asyncmon/asyncmon/model"
)

// liveSample takes snapshots the way the agent does at its defaults: the
// live group table from the concurrent goroutine profile (no goroutine
// IDs) and the scheduler's runtime metrics.
type liveSample struct {
	*sampler
	live *goroutines.Collector
}

func newLiveSample() *liveSample {
	return &liveSample{
		sampler: newSampler(true),
		live:    goroutines.NewCollector(goroutines.Options{MinInterval: 200 * time.Millisecond, CPUBudget: 1}),
	}
}

func (s *liveSample) take(t *testing.T) model.Window {
	t.Helper()
	w := s.sampler.take(t)
	if err := s.live.Collect(context.Background(), w.Latest()); err != nil {
		t.Fatal(err)
	}
	return w
}

// hotLock is one mutex that n goroutines take in a loop, each holding it
// for about a millisecond: always a queue of waiters, every wait ends.
func hotLock(ctx context.Context, wg *sync.WaitGroup, n int) {
	var mu sync.Mutex
	hits := 0
	for range n {
		wg.Go(func() {
			for ctx.Err() == nil {
				mu.Lock()
				hits++
				time.Sleep(time.Millisecond)
				mu.Unlock()
			}
		})
	}
}

// TestStallSaturatedLockIsNotStalled runs 50 goroutines contending one
// mutex and samples them the way the agent does by default: the live
// group table (the concurrent goroutine profile, without goroutine IDs)
// and the scheduler's runtime metrics. The waiters' count never drops,
// so the table alone looks like a stall; the lock's wait-time counter
// shows that waits keep ending, and nothing may fire.
func TestStallSaturatedLockIsNotStalled(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()
	hotLock(ctx, &wg, 50)

	s := newLiveSample()
	defer s.close()
	e, err := findings.NewEngine(findings.Config{}, detectors.NewStall(detectors.StallConfig{StallFor: 2 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	queued := false
	for range 40 { // 10s: five times StallFor
		time.Sleep(250 * time.Millisecond)
		e.Run(s.take(t))
		for _, g := range s.w.Latest().Groups {
			queued = queued || g.WaitReason == model.WaitMutex && g.Count >= 10
		}
		for _, f := range e.Findings() {
			if f.Detector == detectors.StallName && f.State == model.StateFiring {
				t.Fatalf("%s finding on a lock whose waits keep ending: %s", f.Level, f.Summary)
			}
		}
	}
	if !queued {
		t.Fatal("premise missing: never saw 10 or more goroutines queued on the lock")
	}
}

// TestStallRealDeadlockLiveTable is the AB-BA deadlock of
// TestStallRealDeadlock seen through the live table and the runtime
// metrics, next to a busy lock of four goroutines whose waits keep
// ending: the wait-time counter grows, but by less than the stuck
// waiters would add if they moved, so the cycle still fires. (Without
// goroutine IDs the busy lock's queue, whose count never drops, may be
// listed in the cycle too: the counter cannot say which lock moves.)
func TestStallRealDeadlockLiveTable(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	var busy sync.WaitGroup
	defer busy.Wait()
	defer stop()
	hotLock(ctx, &busy, 4)

	var sys subsystems
	var ready sync.WaitGroup
	ready.Add(2)
	var wg sync.WaitGroup
	wg.Go(func() { sys.transfer(10, &ready) })
	wg.Go(func() { sys.report(&ready) })
	for range 3 {
		wg.Go(func() {
			sys.ledger.Lock()
			sys.queued++
			sys.ledger.Unlock()
		})
	}
	defer func() {
		sys.stolen.Store(true)
		sys.ledger.Unlock()
		wg.Wait()
	}()

	s := newLiveSample()
	defer s.close()
	e, err := findings.NewEngine(findings.Config{}, detectors.NewStall(detectors.StallConfig{StallFor: 2 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	var f model.Finding
	for end := time.Now().Add(30 * time.Second); f.ID == "" && time.Now().Before(end); {
		time.Sleep(250 * time.Millisecond)
		e.Run(s.take(t))
		for _, x := range e.Findings() {
			if x.Detector == detectors.StallName && x.State == model.StateFiring {
				f = x
			}
		}
	}
	if f.ID == "" {
		t.Fatalf("no deadlock finding fired within 30s; findings: %+v", e.Findings())
	}
	if f.Cause != detectors.CauseLockCycle || f.Level != model.LevelCritical {
		t.Fatalf("got cause %q level %q, want lock-cycle critical: %s", f.Cause, f.Level, f.Summary)
	}
	for _, m := range []string{"ab-site", "ba-site"} {
		if site := lineOf(t, m); !strings.Contains(f.Summary, site) {
			t.Errorf("summary does not name %s (%s): %s", m, site, f.Summary)
		}
	}
}

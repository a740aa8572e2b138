package leaktest

import (
	"context"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/collectors/goroutines"
	"github.com/asyncmon/asyncmon/model"
	"go.uber.org/goleak"
)

const pkg = "github.com/asyncmon/asyncmon/internal/leaktest."

func TestMain(m *testing.M) {
	opts := []goleak.Option{}
	for _, f := range []string{"leak", "leakSend", "leakRecv", "leakSelect", "leakWaitGroup", "leakCond", "leakCtx", "leakLater"} {
		opts = append(opts, goleak.IgnoreAnyFunction(pkg+f))
	}
	goleak.VerifyTestMain(m, opts...)
}

// needProfile skips where the runtime has no goroutineleak profile: Go
// 1.26 built without GOEXPERIMENT=goroutineleakprofile.
func needProfile(t *testing.T) {
	t.Helper()
	if pprof.Lookup("goroutineleak") == nil {
		t.Skip("no goroutineleak profile: needs Go 1.27, or GOEXPERIMENT=goroutineleakprofile on Go 1.26")
	}
}

// leak blocks forever on a channel no one else can reach.
//
//go:noinline
func leak() {
	ch := make(chan int)
	<-ch
}

// leakSend sends a result to a caller that has gone: nobody receives.
//
//go:noinline
func leakSend(res chan<- int) { res <- 42 }

// leakRecv ranges over a channel nobody closes.
//
//go:noinline
func leakRecv(in <-chan int) {
	for range in {
	}
}

// leakSelect waits in a select whose every case is dead.
//
//go:noinline
func leakSelect(a, b chan int) {
	select {
	case <-a:
	case b <- 1:
	}
}

// leakWaitGroup waits for workers that never call Done.
//
//go:noinline
func leakWaitGroup(wg *sync.WaitGroup) { wg.Wait() }

// leakCond waits on a condition nobody signals.
//
//go:noinline
func leakCond(c *sync.Cond) {
	c.L.Lock()
	c.Wait()
	c.L.Unlock()
}

// leakCtx hands a result over or gives up when ctx is done, but ctx is
// never cancelled and the caller is gone.
//
//go:noinline
func leakCtx(ctx context.Context, res chan<- int) {
	select {
	case res <- 1:
	case <-ctx.Done():
	}
}

// idle is a healthy pool worker: its channel stays reachable from the
// test, which closes it at the end.
//
//go:noinline
func idle(jobs <-chan int, wg *sync.WaitGroup) {
	defer wg.Done()
	for range jobs {
	}
}

// startLeaks leaks goroutines of every class, each started through a
// function that returns, so nothing but the goroutines themselves can
// reach what they wait on.
//
//go:noinline
func startLeaks(bulk int) {
	go leakSend(make(chan int))
	for range bulk {
		go leakSend(make(chan int)) // many at one send
	}
	go leakRecv(make(chan int))
	go leakSelect(make(chan int), make(chan int))
	var wg sync.WaitGroup
	wg.Add(1)
	go leakWaitGroup(&wg)
	go leakCond(sync.NewCond(&sync.Mutex{}))
	ctx, cancel := context.WithCancel(context.Background())
	_ = cancel // never called: the context outlives nothing but the goroutine
	go leakCtx(ctx, make(chan int))
}

func TestLeakedGroups(t *testing.T) {
	needProfile(t)
	for range 7 {
		go leak()
	}
	for _, tt := range []struct {
		name     string
		maxPause time.Duration
	}{{"profile", -1}, {"dump", time.Hour}} {
		t.Run(tt.name, func(t *testing.T) {
			c := goroutines.NewCollector(goroutines.Options{MaxPause: tt.maxPause})
			deadline := time.Now().Add(5 * time.Second)
			for {
				if !c.CheckLeaks() {
					t.Fatal("CheckLeaks found no profile")
				}
				tb, err := c.Refresh(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				for _, g := range tb.Groups {
					if g.Site().Func == pkg+"leak" && g.Count == 7 && g.Leaked == 7 {
						return
					}
				}
				if time.Now().After(deadline) {
					t.Fatalf("no group of 7 leaked goroutines in %+v", tb.Groups)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

// TestSuspicionProvesLeaks leaks one goroutine of every class (and 1000
// at one send) and checks that the collector, on suspicion alone (no
// explicit request), reads the goroutineleak profile and marks every
// leaked group, and no healthy idle worker.
func TestSuspicionProvesLeaks(t *testing.T) {
	needProfile(t)
	jobs := make(chan int)
	var pool sync.WaitGroup
	for range 4 {
		pool.Add(1)
		go idle(jobs, &pool)
	}
	defer func() {
		close(jobs)
		pool.Wait()
	}()
	startLeaks(1000)

	c := goroutines.NewCollector(goroutines.Options{SuspectAfter: time.Second, LeakEvery: 100 * time.Millisecond, MinInterval: 100 * time.Millisecond, CPUBudget: 0.5})
	want := map[string]int{"leakSend": 1001, "leakRecv": 1, "leakSelect": 1, "leakWaitGroup": 1, "leakCond": 1, "leakCtx": 1}
	deadline := time.Now().Add(60 * time.Second)
	for {
		var s model.Snapshot
		if err := c.Collect(context.Background(), &s); err != nil {
			t.Fatal(err)
		}
		got := make(map[string]int)
		idleLeaked := -1
		for _, g := range s.Groups {
			fn := strings.TrimPrefix(g.Site().Func, pkg)
			if _, ok := want[fn]; ok {
				got[fn] += g.Leaked
			}
			if fn == "idle" {
				idleLeaked = g.Leaked
			}
		}
		done := true
		for fn, n := range want {
			done = done && got[fn] == n
		}
		if done {
			if idleLeaked != 0 {
				t.Fatalf("the idle pool is marked leaked (%d) or missing (-1)", idleLeaked)
			}
			lc := s.LeakCheck
			if lc == nil || !lc.Available || lc.Time.IsZero() || lc.Leaked < 1006 || lc.Goroutines < 1006 {
				t.Fatalf("leak check = %+v, want a read listing the leaked goroutines", lc)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("leaked per site %v, want %v; leak check %+v", got, want, s.LeakCheck)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestLeakPauseBound: when the pause a read is expected to cause is above
// LeakMaxPause, suspicion does not make the collector read the profile
// before LeakInterval, and the leak check says why.
func TestLeakPauseBound(t *testing.T) {
	needProfile(t)
	go leak()
	c := goroutines.NewCollector(goroutines.Options{SuspectAfter: time.Millisecond, LeakEvery: time.Millisecond,
		LeakMaxPause: time.Nanosecond, LeakInterval: time.Hour, MinInterval: time.Millisecond})
	for range 5 {
		if _, err := c.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	var s model.Snapshot
	if err := c.Collect(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	lc := s.LeakCheck
	if lc == nil || !lc.Available || !lc.Time.IsZero() || lc.Suspects == 0 || !strings.Contains(lc.Limited, "above the 1ns bound") {
		t.Fatalf("leak check = %+v, want no read, suspects, and the bound named", lc)
	}
	// On request it is read whatever the bound.
	if !c.CheckLeaks() {
		t.Fatal("CheckLeaks found no profile")
	}
	s = model.Snapshot{}
	if err := c.Collect(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	if s.LeakCheck.Time.IsZero() || s.LeakCheck.Leaked == 0 {
		t.Fatalf("after CheckLeaks, leak check = %+v", s.LeakCheck)
	}
}

// held keeps leakLater's channel reachable until the test drops it.
var held chan int

// leakLater waits on held's channel: not leaked while held has it.
//
//go:noinline
func leakLater(ch chan int) { <-ch }

// TestLeakProvenAfterCallerLetsGo: a group checked while what it waits
// on was still reachable is checked again, and proven once it is not.
func TestLeakProvenAfterCallerLetsGo(t *testing.T) {
	needProfile(t)
	held = make(chan int)
	go leakLater(held)
	c := goroutines.NewCollector(goroutines.Options{SuspectAfter: 50 * time.Millisecond, LeakEvery: 10 * time.Millisecond,
		LeakInterval: 500 * time.Millisecond, CPUBudget: 0.5})
	leaked := func() (checked bool, n int) {
		tb, err := c.Refresh(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range tb.Groups {
			if g.Site().Func == pkg+"leakLater" {
				n += g.Leaked
			}
		}
		var s model.Snapshot
		if err := c.Collect(context.Background(), &s); err != nil {
			t.Fatal(err)
		}
		return !s.LeakCheck.Time.IsZero(), n
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		checked, n := leaked()
		if n != 0 {
			t.Fatalf("proven leaked while its channel is still reachable")
		}
		if checked {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("never checked")
		}
		time.Sleep(20 * time.Millisecond)
	}
	held = nil // now nothing but the goroutine reaches the channel
	for {
		if _, n := leaked(); n == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("not proven leaked after its channel became unreachable")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

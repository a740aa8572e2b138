package detectors_test

// Tests on real goroutines that truly leak, stall and spin. The snapshots
// come from the real collectors (a goroutine dump parsed and grouped, the
// scheduler and runtime collectors), the way the agent takes them.

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/asyncmon/asyncmon/collectors"
	"github.com/asyncmon/asyncmon/collectors/dump"
	"github.com/asyncmon/asyncmon/collectors/goroutines"
	"github.com/asyncmon/asyncmon/detectors"
	"github.com/asyncmon/asyncmon/findings"
	"github.com/asyncmon/asyncmon/model"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// lineOf returns "abs/path/real_test.go:N" for the line holding marker.
func lineOf(t *testing.T, marker string) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if strings.Contains(sc.Text(), "// "+marker) {
			return filepath.ToSlash(file) + ":" + itoa(n)
		}
	}
	t.Fatalf("marker %q not found", marker)
	return ""
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

// sampler takes real snapshots of this process.
type sampler struct {
	seq     uint64
	grouper *goroutines.Grouper
	sched   *collectors.Scheduler
	rt      *collectors.Runtime
	w       model.Window
}

func newSampler(withSched bool) *sampler {
	s := &sampler{grouper: goroutines.NewGrouper(goroutines.GroupOptions{MaxGroups: 1000})}
	if withSched {
		s.sched = collectors.NewScheduler(collectors.SchedulerOptions{})
		s.rt = collectors.NewRuntime()
	}
	return s
}

func (s *sampler) close() {
	if s.sched != nil {
		s.sched.Close()
	}
}

// take appends one snapshot to the window and returns the window.
func (s *sampler) take(t *testing.T) model.Window {
	t.Helper()
	s.seq++
	snap := &model.Snapshot{Seq: s.seq, Time: time.Now()}
	if s.sched != nil {
		ctx := context.Background()
		if err := s.sched.Collect(ctx, snap); err != nil {
			t.Fatal(err)
		}
		if err := s.rt.Collect(ctx, snap); err != nil {
			t.Fatal(err)
		}
	} else {
		buf := make([]byte, 1<<20)
		for {
			n := runtime.Stack(buf, true)
			if n < len(buf) {
				buf = buf[:n]
				break
			}
			buf = make([]byte, 2*len(buf))
		}
		d, err := dump.Parse(bytes.NewReader(buf))
		if err != nil {
			t.Fatal(err)
		}
		tab := s.grouper.Group(d.Goroutines)
		snap.Groups, snap.GroupsTime, snap.GroupsTotal, snap.GroupsTruncated = tab.Groups, snap.Time, tab.Total, tab.Truncated
		snap.ByWaitReason = tab.ByWaitReason
	}
	s.w.Snapshots = append(s.w.Snapshots, snap)
	return s.w
}

// waitFiring samples every step and runs the engine until a finding of the
// detector fires, or fails at the deadline.
func waitFiring(t *testing.T, s *sampler, e *findings.Engine, name string, step, deadline time.Duration) model.Finding {
	t.Helper()
	end := time.Now().Add(deadline)
	tick := time.NewTicker(step)
	defer tick.Stop()
	for time.Now().Before(end) {
		<-tick.C
		e.Run(s.take(t))
		for _, f := range e.Findings() {
			if f.Detector == name && f.State == model.StateFiring {
				return f
			}
		}
	}
	t.Fatalf("no %s finding fired within %s; findings: %+v", name, deadline, e.Findings())
	return model.Finding{}
}

// leakyFetch is a request path that leaks: it starts a worker to fetch a
// value and waits for it until the request's deadline, but the worker then
// waits to hand its result to a caller that has gone, until the server
// shuts down.
func leakyFetch(reqCtx, srvCtx context.Context) {
	res := make(chan int)
	go func() {
		v := 42
		select { // leak-site
		case res <- v:
		case <-srvCtx.Done():
		}
	}()
	select {
	case <-res:
	case <-reqCtx.Done():
	}
}

func TestLeakRealGoroutines(t *testing.T) {
	srvCtx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()
	wg.Go(func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-srvCtx.Done():
				return
			case <-tick.C:
				// The caller has already given up when the worker
				// is ready: an expired request context.
				reqCtx, cancel := context.WithCancel(srvCtx)
				cancel()
				leakyFetch(reqCtx, srvCtx)
			}
		}
	})

	s := newSampler(false)
	defer s.close()
	e, err := findings.NewEngine(findings.Config{Rules: map[string]findings.Rule{detectors.LeakName: {For: -1}}},
		detectors.NewLeak(detectors.LeakConfig{MinSpan: 3 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	f := waitFiring(t, s, e, detectors.LeakName, 250*time.Millisecond, 30*time.Second)
	if want := lineOf(t, "leak-site"); f.Subject != want {
		t.Fatalf("subject %q, want %q\n%s", f.Subject, want, f.Summary)
	}
	if f.Cause != detectors.CauseGrowing || f.Level != model.LevelWarning || !strings.Contains(f.Summary, "select") {
		t.Fatalf("got cause %q level %q: %s", f.Cause, f.Level, f.Summary)
	}
	t.Log(f.Summary)
}

// ledger and audit are two subsystems with their own locks. transfer takes
// ledger then audit; report takes audit then ledger: AB-BA.
type subsystems struct {
	ledger, audit sync.Mutex
	balance       int
	entries       []string
	// stolen is set when the test breaks the deadlock by unlocking
	// ledger on transfer's behalf; transfer then must not unlock it.
	stolen atomic.Bool
	// queued is written by the requests that queue behind ledger. They
	// must not touch balance: after the test unlocks ledger on
	// transfer's behalf, nothing orders transfer's write of balance
	// before theirs, and the race detector says so.
	queued int
}

func (s *subsystems) transfer(amount int, ready *sync.WaitGroup) {
	s.ledger.Lock()
	s.balance += amount
	ready.Done()
	ready.Wait()
	s.audit.Lock() // ab-site
	s.entries = append(s.entries, "transfer")
	s.audit.Unlock()
	if !s.stolen.Load() {
		s.ledger.Unlock()
	}
}

func (s *subsystems) report(ready *sync.WaitGroup) int {
	s.audit.Lock()
	ready.Done()
	ready.Wait()
	s.ledger.Lock() // ba-site
	n := s.balance
	s.ledger.Unlock()
	s.audit.Unlock()
	return n
}

func TestStallRealDeadlock(t *testing.T) {
	var sys subsystems
	var ready sync.WaitGroup
	ready.Add(2)
	var wg sync.WaitGroup
	wg.Go(func() { sys.transfer(10, &ready) })
	wg.Go(func() { sys.report(&ready) })
	// More requests pile up behind the locks, as they would in a service.
	for range 3 {
		wg.Go(func() {
			sys.ledger.Lock()
			sys.queued++ // not balance: see subsystems.queued
			sys.ledger.Unlock()
		})
	}
	defer func() {
		// Break the cycle from outside: sync.Mutex is not owned by a
		// goroutine, so the test can release transfer's ledger lock on
		// its behalf; report and the others then finish and free audit.
		sys.stolen.Store(true)
		sys.ledger.Unlock()
		wg.Wait()
	}()

	s := newSampler(false)
	defer s.close()
	e, err := findings.NewEngine(findings.Config{}, detectors.NewStall(detectors.StallConfig{StallFor: 2 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	f := waitFiring(t, s, e, detectors.StallName, 250*time.Millisecond, 30*time.Second)
	if f.Cause != detectors.CauseLockCycle || f.Level != model.LevelCritical {
		t.Fatalf("got cause %q level %q, want lock-cycle critical: %s", f.Cause, f.Level, f.Summary)
	}
	for _, m := range []string{"ab-site", "ba-site"} {
		if site := lineOf(t, m); !strings.Contains(f.Summary, site) {
			t.Errorf("summary does not name %s (%s): %s", m, site, f.Summary)
		}
	}
	t.Log(f.Summary)
}

// TestStallDeadlockUnderMiddleware is an AB-BA deadlock between two HTTP
// handlers wrapped by asyncmon's request middleware, as in the demo. The
// middleware's frame sits in every handler's stack; Go 1.27 names it
// collectors.(*Requests).Middleware.func1, which the detector once took
// for one of the agent's own goroutines, so the cycle was never reported.
func TestStallDeadlockUnderMiddleware(t *testing.T) {
	var sys subsystems
	var ready sync.WaitGroup
	ready.Add(2)
	mux := http.NewServeMux()
	mux.HandleFunc("/transfer", func(http.ResponseWriter, *http.Request) { sys.transfer(10, &ready) })
	mux.HandleFunc("/report", func(http.ResponseWriter, *http.Request) { sys.report(&ready) })
	srv := httptest.NewServer(collectors.NewRequests(collectors.RequestsOptions{}).Middleware(mux))
	defer srv.Close()
	var wg sync.WaitGroup
	for _, path := range []string{"/transfer", "/report"} {
		wg.Go(func() {
			resp, err := srv.Client().Get(srv.URL + path)
			if err == nil {
				resp.Body.Close()
			}
		})
	}
	defer func() {
		// Break the cycle as TestStallRealDeadlock does; the handlers
		// then answer and the clients return.
		sys.stolen.Store(true)
		sys.ledger.Unlock()
		wg.Wait()
	}()

	s := newSampler(false)
	defer s.close()
	e, err := findings.NewEngine(findings.Config{}, detectors.NewStall(detectors.StallConfig{StallFor: 2 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	f := waitFiring(t, s, e, detectors.StallName, 250*time.Millisecond, 30*time.Second)
	if f.Cause != detectors.CauseLockCycle {
		t.Fatalf("got cause %q, want lock-cycle: %s", f.Cause, f.Summary)
	}
	for _, m := range []string{"ab-site", "ba-site"} {
		if site := lineOf(t, m); !strings.Contains(f.Summary, site) {
			t.Errorf("summary does not name %s (%s): %s", m, site, f.Summary)
		}
	}
}

// checksum is CPU-bound work of the kind a handler path does for every
// request: hashing a payload.
func checksum(n int) uint64 {
	h := uint64(1469598103934665603)
	for i := range n {
		h ^= uint64(i)
		h *= 1099511628211 // hot-site
	}
	return h
}

func TestStarvationRealSpin(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	var sink atomic.Uint64
	for range 4 * runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for ctx.Err() == nil {
				sink.Add(checksum(1 << 20))
			}
		})
	}
	s := newSampler(true)
	defer s.close()
	e, err := findings.NewEngine(findings.Config{Rules: map[string]findings.Rule{detectors.StarvationName: {For: -1}}},
		detectors.NewStarvation(detectors.StarvationConfig{}))
	if err != nil {
		t.Fatal(err)
	}
	f := waitFiring(t, s, e, detectors.StarvationName, time.Second, 40*time.Second)
	if f.Cause != detectors.CauseCPU {
		t.Fatalf("cause %q, want %q: %s", f.Cause, detectors.CauseCPU, f.Summary)
	}
	t.Log(f.Summary)
}

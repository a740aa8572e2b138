package collectors

import (
	"context"
	"math"
	"os"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/model"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// measure runs the collector for d and returns the worst p99s seen.
func measure(t *testing.T, s *Scheduler, d time.Duration) (latP99, lagP99 float64, samples int) {
	t.Helper()
	ctx := context.Background()
	var snap model.Snapshot
	if err := s.Collect(ctx, &snap); err != nil { // reset the deltas
		t.Fatal(err)
	}
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		time.Sleep(250 * time.Millisecond)
		snap = model.Snapshot{}
		if err := s.Collect(ctx, &snap); err != nil {
			t.Fatal(err)
		}
		latP99 = max(latP99, snap.Scheduler.LatencyP99)
		lagP99 = max(lagP99, snap.Scheduler.ProbeLagP99)
		samples += snap.Scheduler.ProbeSamples
	}
	return latP99, lagP99, samples
}

// TestSchedulerSeesCPUHogs saturates every P with more spinning goroutines
// than GOMAXPROCS, on the real runtime, and checks that both the probe lag
// and the runtime's scheduling latency rise clearly above the idle values.
func TestSchedulerSeesCPUHogs(t *testing.T) {
	s := NewScheduler(SchedulerOptions{})
	defer s.Close()

	_, idleLag, idleSamples := measure(t, s, 1500*time.Millisecond)
	if idleSamples == 0 {
		t.Fatal("probe took no samples while idle")
	}

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	hogs := 8 * runtime.GOMAXPROCS(0)
	for range hogs {
		wg.Go(func() {
			x := 0
			for ctx.Err() == nil {
				for i := range 1_000_000 {
					x += i
				}
			}
			_ = x
		})
	}
	busyLat, busyLag, _ := measure(t, s, 2*time.Second)
	cancel()
	wg.Wait()
	// Idle is measured on both sides of the busy window and the lower one
	// kept, so load from other processes during one idle window does not
	// stand in for this process's own idle lag.
	_, idleAfter, _ := measure(t, s, 1500*time.Millisecond)
	idleLag = min(idleLag, idleAfter)

	t.Logf("probe lag p99: idle %.3fms, busy %.3fms; sched latency p99 busy %.3fms",
		idleLag*1e3, busyLag*1e3, busyLat*1e3)
	// With 8 spinners per P, a runnable goroutine waits for up to seven
	// 10 ms preemption slices: both measures land in the milliseconds,
	// far enough above the idle lag that other load on a small shared
	// machine does not close the gap.
	if busyLag < 2e-3 || busyLag < 2*idleLag {
		t.Errorf("probe lag p99 under CPU hogs = %v s, want >= 2ms and >= 2x idle (%v s)", busyLag, idleLag)
	}
	if busyLat < 1e-3 {
		t.Errorf("sched latency p99 under CPU hogs = %v s, want >= 1ms", busyLat)
	}
}

func TestSchedulerHistogramsAccumulate(t *testing.T) {
	s := NewScheduler(SchedulerOptions{ProbePeriod: time.Millisecond})
	defer s.Close()
	var a, b model.Snapshot
	if err := s.Collect(context.Background(), &a); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if err := s.Collect(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	h := b.Scheduler.ProbeLagHistogram
	if len(h.Counts) != len(h.Bounds)+1 {
		t.Fatalf("got %d counts for %d bounds, want bounds+1", len(h.Counts), len(h.Bounds))
	}
	if h.Count == 0 || h.Count < a.Scheduler.ProbeLagHistogram.Count {
		t.Errorf("probe histogram count = %d after %d, want growth", h.Count, a.Scheduler.ProbeLagHistogram.Count)
	}
	var sum uint64
	for _, c := range h.Counts {
		sum += c
	}
	if sum != h.Count {
		t.Errorf("bucket counts sum to %d, want Count %d", sum, h.Count)
	}
	if b.Scheduler.LatencyHistogram.Count < b.Scheduler.LatencyCount {
		t.Errorf("latency histogram count %d < interval count %d", b.Scheduler.LatencyHistogram.Count, b.Scheduler.LatencyCount)
	}
}

func TestSchedulerProbeDisabled(t *testing.T) {
	s := NewScheduler(SchedulerOptions{ProbePeriod: -1})
	defer s.Close()
	var snap model.Snapshot
	if err := s.Collect(context.Background(), &snap); err != nil {
		t.Fatal(err)
	}
	if snap.Scheduler.ProbeSamples != 0 || snap.Scheduler.ProbePeriod != 0 {
		t.Errorf("disabled probe reported %d samples, period %v", snap.Scheduler.ProbeSamples, snap.Scheduler.ProbePeriod)
	}
	if err := s.Close(); err != nil { // idempotent
		t.Fatal(err)
	}
}

func TestHistDeltaQuantiles(t *testing.T) {
	inf := math.Inf(1)
	mk := func(counts ...uint64) *metrics.Float64Histogram {
		return &metrics.Float64Histogram{Counts: counts, Buckets: []float64{-inf, 0.001, 0.002, 0.004, inf}}
	}
	var d histDelta
	d.update(mk(0, 0, 0, 0))
	d.update(mk(0, 90, 9, 1))
	tests := []struct {
		name string
		got  float64
		want float64
	}{
		{"p50", d.quantile(0.5), 0.002},
		{"p90", d.quantile(0.9), 0.002},
		{"p99", d.quantile(0.99), 0.004},
		{"p100 in the +Inf bucket uses its lower bound", d.quantile(1), 0.004},
		{"max", d.max(), 0.004},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	d.update(mk(0, 90, 9, 1)) // no change: empty delta
	if d.count() != 0 || d.quantile(0.99) != 0 || d.max() != 0 {
		t.Errorf("empty delta: count %d p99 %v max %v, want zeros", d.count(), d.quantile(0.99), d.max())
	}
}

func TestReadCgroup(t *testing.T) {
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(dir+"/sys/svc", 0o755))
	must(os.WriteFile(dir+"/cgroup", []byte("0::/svc\n"), 0o644))
	must(os.WriteFile(dir+"/sys/svc/cpu.stat", []byte("usage_usec 100\nnr_periods 50\nnr_throttled 7\nthrottled_usec 2500000\n"), 0o644))
	must(os.WriteFile(dir+"/sys/svc/cpu.max", []byte("150000 100000\n"), 0o644))
	cg := readCgroup(dir+"/cgroup", dir+"/sys")
	want := model.Cgroup{QuotaCores: 1.5, PeriodsTotal: 50, ThrottledPeriodsTotal: 7, ThrottledSecondsTotal: 2.5}
	if cg == nil || *cg != want {
		t.Fatalf("readCgroup = %+v, want %+v", cg, want)
	}
	must(os.WriteFile(dir+"/sys/svc/cpu.max", []byte("max 100000\n"), 0o644))
	if cg := readCgroup(dir+"/cgroup", dir+"/sys"); cg == nil || cg.QuotaCores != 0 {
		t.Errorf("cpu.max 'max': got %+v, want quota 0", cg)
	}
	if cg := readCgroup(dir+"/missing", dir+"/sys"); cg != nil {
		t.Errorf("missing /proc/self/cgroup: got %+v, want nil", cg)
	}
}

func TestRuntimeCollect(t *testing.T) {
	r := NewRuntime()
	var a, b model.Snapshot
	if err := r.Collect(context.Background(), &a); err != nil {
		t.Fatal(err)
	}
	block := make(chan struct{})
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() { <-block })
	}
	// New goroutines are runnable until they first park: poll.
	for deadline := time.Now().Add(10 * time.Second); ; {
		b = model.Snapshot{}
		if err := r.Collect(context.Background(), &b); err != nil {
			t.Fatal(err)
		}
		if b.Goroutines.Waiting >= 100 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(block)
	wg.Wait()
	// Other tests' goroutines may exit meanwhile, so the total is only
	// bounded by ours; the created counter is monotonic.
	if b.Goroutines.Total < 100 {
		t.Errorf("total goroutines %d, want >= 100", b.Goroutines.Total)
	}
	if b.Goroutines.Waiting < 100 {
		t.Errorf("waiting goroutines %d, want >= 100", b.Goroutines.Waiting)
	}
	if b.Goroutines.CreatedTotal < a.Goroutines.CreatedTotal+100 {
		t.Errorf("created total %d, want >= %d", b.Goroutines.CreatedTotal, a.Goroutines.CreatedTotal+100)
	}
	p := b.Process
	if p.PID != os.Getpid() || p.GOMAXPROCS != runtime.GOMAXPROCS(0) || p.Threads == 0 || p.GoVersion != runtime.Version() {
		t.Errorf("process = %+v", p)
	}
	if p.FDs == 0 || p.FDLimit == 0 || p.CPUSecondsTotal == 0 {
		t.Errorf("fds %d limit %d cpu %v, want all > 0", p.FDs, p.FDLimit, p.CPUSecondsTotal)
	}
}

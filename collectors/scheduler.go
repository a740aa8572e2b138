package collectors

import (
	"context"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/model"
)

// Runtime metric names the scheduler collector reads.
const (
	rmSchedLatencies = "/sched/latencies:seconds"
	rmPausesGC       = "/sched/pauses/total/gc:seconds"
	rmPausesOther    = "/sched/pauses/total/other:seconds"
	rmMutexWait      = "/sync/mutex/wait/total:seconds"
)

// defaultProbePeriod is how often the timer probe asks to wake. 5 ms is
// short enough to see a saturated scheduler within one interval (200
// samples a second) at a small cost per wake (docs/perf.md).
const defaultProbePeriod = 5 * time.Millisecond

// maxProbeSamples bounds the lag samples kept between two collections.
const maxProbeSamples = 4096

// SchedulerOptions configures [NewScheduler].
type SchedulerOptions struct {
	// ProbePeriod is how often the timer probe asks to wake.
	// Optional. Default 5 ms. Negative disables the probe.
	ProbePeriod time.Duration
}

// Scheduler measures scheduling delay two ways:
//
//   - the runtime's /sched/latencies:seconds histogram: how long goroutines
//     sat runnable before they ran. Quantiles come from the delta between
//     two collections.
//   - a timer probe: a goroutine that asks to wake every ProbePeriod and
//     records how late it woke. The runtime histogram alone misses timer
//     delay: with every P busy running spinning goroutines it stays in the
//     microseconds while a timer wakes tens of milliseconds late.
//
// It also reports stop-the-world pauses and sync.Mutex wait time. Collect
// must be called from one goroutine at a time; Close stops the probe.
type Scheduler struct {
	rm          *rtMetrics
	lat         histDelta
	pauseGC     histDelta
	pauseOther  histDelta
	lastMutex   float64
	lastTime    time.Time
	latHist     model.Histogram
	probeHist   model.Histogram
	probePeriod time.Duration
	cancel      context.CancelFunc
	wg          sync.WaitGroup
	mu          sync.Mutex // guards lags
	lags        []float64  // probe lag samples since the last Collect
	scratch     []float64  // Collect-only copy of lags
	closeOnce   sync.Once
}

// NewScheduler returns a scheduler collector and starts its timer probe.
// Call Close to stop the probe.
func NewScheduler(opts SchedulerOptions) *Scheduler {
	s := &Scheduler{
		rm:          newRTMetrics(rmSchedLatencies, rmPausesGC, rmPausesOther, rmMutexWait),
		probePeriod: opts.ProbePeriod,
		latHist:     newHistogram(),
		probeHist:   newHistogram(),
	}
	if s.probePeriod == 0 {
		s.probePeriod = defaultProbePeriod
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	if s.probePeriod > 0 {
		s.wg.Go(func() { s.probe(ctx) })
	}
	return s
}

func newHistogram() model.Histogram {
	b := model.LatencyBuckets()
	return model.Histogram{Bounds: b, Counts: make([]uint64, len(b)+1)}
}

// Name implements model.Collector.
func (s *Scheduler) Name() string { return "scheduler" }

// probe wakes every probePeriod and records how late each wake-up was. It
// uses one reusable timer (no allocation per wake) and measures against the
// monotonic clock.
func (s *Scheduler) probe(ctx context.Context) {
	t := time.NewTimer(s.probePeriod)
	defer t.Stop()
	want := time.Now().Add(s.probePeriod)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			// The value sent on t.C is when the timer fired, not when
			// this goroutine got to run: the delay that matters is the
			// latter, so read the clock here.
			lag := time.Since(want).Seconds()
			if lag < 0 {
				lag = 0
			}
			s.mu.Lock()
			if len(s.lags) < maxProbeSamples {
				s.lags = append(s.lags, lag)
			}
			s.mu.Unlock()
			// Schedule from now, not from want: after a long stall the
			// probe measures the next period instead of firing a burst of
			// late catch-up wake-ups.
			want = time.Now().Add(s.probePeriod)
			t.Reset(s.probePeriod)
		}
	}
}

// Collect implements model.Collector. It fills s.Scheduler.
func (s *Scheduler) Collect(ctx context.Context, snap *model.Snapshot) error {
	now := time.Now()
	s.rm.read()
	sc := &snap.Scheduler

	s.lat.update(s.rm.hist(rmSchedLatencies))
	sc.LatencyCount = s.lat.count()
	sc.LatencyP50 = s.lat.quantile(0.50)
	sc.LatencyP90 = s.lat.quantile(0.90)
	sc.LatencyP99 = s.lat.quantile(0.99)
	sc.LatencyMax = s.lat.max()
	s.lat.addTo(s.latHist.Bounds, s.latHist.Counts, &s.latHist.Sum, &s.latHist.Count)

	s.pauseGC.update(s.rm.hist(rmPausesGC))
	s.pauseOther.update(s.rm.hist(rmPausesOther))
	sc.PauseCount = s.pauseGC.count() + s.pauseOther.count()
	sc.PauseMax = max(s.pauseGC.max(), s.pauseOther.max())

	mw := s.rm.float(rmMutexWait)
	sc.MutexWaitSecondsTotal = mw
	if !s.lastTime.IsZero() {
		if dt := now.Sub(s.lastTime).Seconds(); dt > 0 {
			sc.MutexWaitRate = (mw - s.lastMutex) / dt
		}
	}
	s.lastMutex, s.lastTime = mw, now

	s.mu.Lock()
	s.scratch = append(s.scratch[:0], s.lags...)
	s.lags = s.lags[:0]
	s.mu.Unlock()
	if s.probePeriod > 0 {
		sc.ProbePeriod = s.probePeriod.Seconds()
	}
	sc.ProbeSamples = len(s.scratch)
	if len(s.scratch) > 0 {
		slices.Sort(s.scratch)
		sc.ProbeLagP50 = sampleQuantile(s.scratch, 0.50)
		sc.ProbeLagP99 = sampleQuantile(s.scratch, 0.99)
		sc.ProbeLagMax = s.scratch[len(s.scratch)-1]
		for _, v := range s.scratch {
			observe(&s.probeHist, v)
		}
	}
	sc.LatencyHistogram = cloneHistogram(s.latHist)
	sc.ProbeLagHistogram = cloneHistogram(s.probeHist)
	return nil
}

// Close stops and joins the timer probe. It is idempotent.
func (s *Scheduler) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		s.wg.Wait()
	})
	return nil
}

// sampleQuantile returns the q-quantile of sorted samples (nearest rank).
func sampleQuantile(sorted []float64, q float64) float64 {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func observe(h *model.Histogram, v float64) {
	i, _ := slices.BinarySearch(h.Bounds, v)
	h.Counts[i]++
	h.Count++
	h.Sum += v
}

// cloneHistogram copies the counts so the snapshot stays immutable while
// the collector keeps counting. Bounds are shared: they never change.
func cloneHistogram(h model.Histogram) model.Histogram {
	h.Counts = slices.Clone(h.Counts)
	return h
}

package bench

import (
	"runtime/metrics"
	"testing"
)

// pauseWatch tracks the longest stop-the-world pause (the upper bound of
// the highest /sched/pauses/total/other:seconds bucket that grew) over a
// benchmark.
type pauseWatch struct {
	s    []metrics.Sample
	prev []uint64
	max  float64
	// over1ms and all count the pauses longer than 1 ms (by bucket
	// lower bound) and all pauses.
	over1ms, all uint64
}

func newPauseWatch() *pauseWatch {
	w := &pauseWatch{s: []metrics.Sample{{Name: "/sched/pauses/total/other:seconds"}}}
	metrics.Read(w.s)
	w.prev = append([]uint64(nil), w.s[0].Value.Float64Histogram().Counts...)
	return w
}

// check folds the pauses since the last call into max.
func (w *pauseWatch) check() {
	metrics.Read(w.s)
	h := w.s[0].Value.Float64Histogram()
	for i := range h.Counts {
		d := h.Counts[i] - w.prev[i]
		w.all += d
		if h.Buckets[i] >= 1e-3 {
			w.over1ms += d
		}
	}
	for i := len(h.Counts) - 1; i >= 0; i-- {
		if h.Counts[i] > w.prev[i] {
			hi := h.Buckets[i+1]
			if hi > 1e9 {
				hi = h.Buckets[i]
			}
			w.max = max(w.max, hi)
			break
		}
	}
	w.prev = append(w.prev[:0], h.Counts...)
}

func (w *pauseWatch) report(b *testing.B) {
	b.ReportMetric(w.max*1e6, "max-pause-µs")
	b.ReportMetric(float64(w.all)/float64(b.N), "pauses/op")
	b.ReportMetric(float64(w.over1ms)/float64(b.N), "pauses>1ms/op")
}

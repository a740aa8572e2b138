package collectors

import (
	"math"
	"runtime/metrics"
)

// rtMetrics reads a fixed set of runtime/metrics by name. Names the running
// Go version does not know are dropped at construction, and reading them
// afterwards yields the zero value: collectors degrade instead of failing.
type rtMetrics struct {
	samples []metrics.Sample
	index   map[string]int
}

func newRTMetrics(names ...string) *rtMetrics {
	known := make(map[string]bool)
	for _, d := range metrics.All() {
		known[d.Name] = true
	}
	m := &rtMetrics{index: make(map[string]int)}
	for _, n := range names {
		if known[n] {
			m.index[n] = len(m.samples)
			m.samples = append(m.samples, metrics.Sample{Name: n})
		}
	}
	return m
}

// read refreshes every sample.
func (m *rtMetrics) read() { metrics.Read(m.samples) }

func (m *rtMetrics) value(name string) (metrics.Value, bool) {
	i, ok := m.index[name]
	if !ok {
		return metrics.Value{}, false
	}
	return m.samples[i].Value, true
}

// uint returns a KindUint64 metric, or 0.
func (m *rtMetrics) uint(name string) uint64 {
	v, ok := m.value(name)
	if !ok || v.Kind() != metrics.KindUint64 {
		return 0
	}
	return v.Uint64()
}

// float returns a KindFloat64 metric, or 0.
func (m *rtMetrics) float(name string) float64 {
	v, ok := m.value(name)
	if !ok || v.Kind() != metrics.KindFloat64 {
		return 0
	}
	return v.Float64()
}

// hist returns a KindFloat64Histogram metric, or nil.
func (m *rtMetrics) hist(name string) *metrics.Float64Histogram {
	v, ok := m.value(name)
	if !ok || v.Kind() != metrics.KindFloat64Histogram {
		return nil
	}
	return v.Float64Histogram()
}

// histDelta is the difference of two readings of one cumulative runtime
// histogram. The runtime's bucket boundaries never change within a process,
// so the previous counts are kept as a plain slice.
type histDelta struct {
	prev   []uint64
	delta  []uint64
	bounds []float64 // len(delta)+1 boundaries, may start at -Inf and end at +Inf
}

// update takes a new reading and computes the delta to the last one. The
// first reading's delta is the whole histogram.
func (d *histDelta) update(h *metrics.Float64Histogram) {
	if h == nil {
		d.delta = d.delta[:0]
		return
	}
	if len(d.prev) != len(h.Counts) {
		d.prev = make([]uint64, len(h.Counts))
		d.delta = make([]uint64, len(h.Counts))
	}
	d.bounds = h.Buckets
	for i, c := range h.Counts {
		d.delta[i] = c - d.prev[i]
		d.prev[i] = c
	}
}

// count is the number of observations in the delta.
func (d *histDelta) count() uint64 {
	var n uint64
	for _, c := range d.delta {
		n += c
	}
	return n
}

// quantile returns an upper estimate of the q-quantile of the delta: the
// upper boundary of the bucket that holds it (its lower boundary where the
// upper one is infinite). It returns 0 for an empty delta.
func (d *histDelta) quantile(q float64) float64 {
	total := d.count()
	if total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(total)))
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i, c := range d.delta {
		seen += c
		if seen >= rank {
			return d.bucketValue(i)
		}
	}
	return d.bucketValue(len(d.delta) - 1)
}

// max returns the upper boundary of the highest non-empty bucket, or 0.
func (d *histDelta) max() float64 {
	for i := len(d.delta) - 1; i >= 0; i-- {
		if d.delta[i] > 0 {
			return d.bucketValue(i)
		}
	}
	return 0
}

func (d *histDelta) bucketValue(i int) float64 {
	hi := d.bounds[i+1]
	if math.IsInf(hi, 1) {
		hi = d.bounds[i]
	}
	return math.Max(hi, 0)
}

// addTo adds the delta into a fixed-bucket model histogram, assigning each
// runtime bucket to the first fixed bucket whose bound is at or above the
// runtime bucket's upper boundary, and estimating the sum from midpoints.
func (d *histDelta) addTo(bounds []float64, counts []uint64, sum *float64, n *uint64) {
	j := 0
	for i, c := range d.delta {
		if c == 0 {
			continue
		}
		v := d.bucketValue(i)
		for j < len(bounds) && bounds[j] < v {
			j++
		}
		counts[j] += c
		lo := math.Max(d.bounds[i], 0)
		*sum += float64(c) * (lo + v) / 2
		*n += c
	}
}

package agent

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/internal/promcache"
	"github.com/prometheus/client_golang/prometheus"
)

// countingCollector counts its Collect calls.
type countingCollector struct {
	desc  *prometheus.Desc
	calls atomic.Int64
}

func (c *countingCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }
func (c *countingCollector) Collect(ch chan<- prometheus.Metric) {
	n := c.calls.Add(1)
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n))
}

// TestMetricsDerivedOncePerCollection: scrapes between two collections
// replay the metrics derived for the latest snapshot; the inner collector
// runs again only after a new collection.
func TestMetricsDerivedOncePerCollection(t *testing.T) {
	a, err := Start(context.Background(), Options{NoListen: true, Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	inner := &countingCollector{desc: prometheus.NewDesc("test_calls", "Calls.", nil, nil)}
	reg := prometheus.NewRegistry()
	reg.MustRegister(&promcache.Collector{Inner: inner, Key: func() any { return a.Latest() }})
	gather := func() float64 {
		t.Helper()
		mfs, err := reg.Gather()
		if err != nil || len(mfs) != 1 {
			t.Fatalf("gather: %v, %d families", err, len(mfs))
		}
		return mfs[0].GetMetric()[0].GetGauge().GetValue()
	}
	for range 3 {
		if got := gather(); got != 1 {
			t.Fatalf("scrape before a new collection got value %v, want 1 (replayed)", got)
		}
	}
	a.collect(context.Background())
	if got := gather(); got != 2 {
		t.Errorf("scrape after a collection got %v, want 2 (derived again)", got)
	}
	if n := inner.calls.Load(); n != 2 {
		t.Errorf("inner collector ran %d times for 2 collections and 4 scrapes, want 2", n)
	}
}

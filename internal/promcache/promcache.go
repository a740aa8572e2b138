// Package promcache is a Prometheus collector that derives its metrics
// once per key (the agent's collection) however often it is scraped.
package promcache

import (
	"context"
	"runtime/pprof"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Collector replays what its inner collector produced for the current
// key (the agent's latest snapshot): the inner one runs at most
// once per collection, whatever the number of scrapes. Its metrics are
// immutable (const metrics), so replaying them is safe; concurrent
// scrapes of a new snapshot wait for the first one to derive them.
type Collector struct {
	// Inner is the collector whose output is cached.
	Inner prometheus.Collector
	// Key returns the current key; a new value means derive again.
	Key func() any
	// Labels are the pprof labels of the goroutine that runs Inner.
	Labels pprof.LabelSet

	mu      sync.Mutex // guards at and metrics
	at      any
	metrics []prometheus.Metric
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) { c.Inner.Describe(ch) }

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	key := c.Key()
	c.mu.Lock()
	if c.metrics == nil || c.at != key {
		c.at, c.metrics = key, c.derive()
	}
	ms := c.metrics
	c.mu.Unlock()
	for _, m := range ms {
		ch <- m
	}
}

// derive runs the inner collector into a slice. Collect sends on a
// channel, so it runs on its own goroutine, joined before derive returns.
func (c *Collector) derive() []prometheus.Metric {
	ch := make(chan prometheus.Metric, 64)
	// Started under the agent's label, so it carries it from its first
	// instruction whoever scrapes (the agent's server or the host's).
	pprof.Do(context.Background(), c.Labels, func(context.Context) {
		go func() {
			defer close(ch)
			c.Inner.Collect(ch)
		}()
	})
	ms := make([]prometheus.Metric, 0, 64)
	for m := range ch {
		ms = append(ms, m)
	}
	return ms
}

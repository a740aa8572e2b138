package agent

import (
	"time"

	"github.com/asyncmon/asyncmon/agent/internal/api"
	"github.com/asyncmon/asyncmon/agent/internal/limits"
	"github.com/asyncmon/asyncmon/agent/internal/metrics"
	"github.com/asyncmon/asyncmon/model"
	"github.com/prometheus/client_golang/prometheus"
)

// registerMetrics registers the agent's Prometheus metrics (package
// agent/internal/metrics) on reg, read from a.
func registerMetrics(reg *prometheus.Registry, a *Agent) error {
	return metrics.Register(reg, metricsSource{a}, ownLabels(), metrics.Names{
		WaitReasons: api.WaitReasons(),
		Limits:      LimitNames(),
		Denied:      limits.DeniedNames(),
	})
}

// topGroupSeries is the bound on the per-group goroutine series.
const topGroupSeries = metrics.TopGroupSeries

// metricsSource is the agent as its metrics read it.
type metricsSource struct{ a *Agent }

func (m metricsSource) Latest() *model.Snapshot { return m.a.Latest() }

func (m metricsSource) Health() metrics.Health {
	a := m.a
	a.mu.RLock()
	n := a.history.Len()
	a.mu.RUnlock()
	return metrics.Health{
		Collections:      a.collections.Load(),
		CycleCPU:         time.Duration(a.cycleCPU.Load()),
		Stretches:        a.stretches.Load(),
		HistorySnapshots: n,
	}
}

func (m metricsSource) Findings() (metrics.Findings, bool) {
	d := m.a.detection
	if d == nil {
		return metrics.Findings{}, false
	}
	names := make([]string, 0)
	for name := range d.engine.Detectors() {
		names = append(names, name)
	}
	return metrics.Findings{
		Detectors: names,
		Current:   d.engine.Findings(),
		Fired:     d.firedCounts(),
		Panics:    d.engine.Panics(),
	}, true
}

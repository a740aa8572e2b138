package metrics

import (
	"github.com/asyncmon/asyncmon/model"
	"github.com/prometheus/client_golang/prometheus"
)

// findingMetrics are the detectors' metrics: findings firing now and
// firings so far, by detector and level.
type findingMetrics struct {
	active, total, panics *prometheus.Desc
}

func newFindingMetrics() *findingMetrics {
	return &findingMetrics{
		active: newDesc("finding_active",
			"Findings firing now, by detector and level.", "detector", "level"),
		total: newDesc("findings_total",
			"Findings that started firing (or rose in level) since the agent started, by detector and level.", "detector", "level"),
		panics: newDesc("detector_panics_total",
			"Detector passes that panicked and were recovered.", "detector"),
	}
}

func (m *findingMetrics) describe(ch chan<- *prometheus.Desc) {
	ch <- m.active
	ch <- m.total
	ch <- m.panics
}

func (m *findingMetrics) collect(src Source, _ *model.Snapshot, ch chan<- prometheus.Metric) {
	f, ok := src.Findings()
	if !ok {
		return
	}
	levels := []model.Level{model.LevelInfo, model.LevelWarning, model.LevelCritical}
	active := make(map[LevelKey]int)
	for _, x := range f.Current {
		if x.State == model.StateFiring {
			active[LevelKey{x.Detector, x.Level}]++
		}
	}
	// Every detector and level is exported, zeros included, so alert
	// rules and dashboards see a series before the first finding.
	for _, name := range f.Detectors {
		for _, l := range levels {
			ch <- prometheus.MustNewConstMetric(m.active, prometheus.GaugeValue, float64(active[LevelKey{name, l}]), name, string(l))
		}
	}
	for _, name := range f.Detectors {
		for _, l := range levels {
			ch <- prometheus.MustNewConstMetric(m.total, prometheus.CounterValue, float64(f.Fired[LevelKey{name, l}]), name, string(l))
		}
	}
	// Zeros included here too, so the agent-panics alert and its panel
	// have a series to read before the first panic.
	for _, name := range f.Detectors {
		ch <- prometheus.MustNewConstMetric(m.panics, prometheus.CounterValue, float64(f.Panics[name]), name)
	}
}

package agent

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

func (m *findingMetrics) collect(a *Agent, _ *model.Snapshot, ch chan<- prometheus.Metric) {
	if a.detection == nil {
		return
	}
	levels := []model.Level{model.LevelInfo, model.LevelWarning, model.LevelCritical}
	active := make(map[levelKey]int)
	for _, f := range a.detection.engine.Findings() {
		if f.State == model.StateFiring {
			active[levelKey{f.Detector, f.Level}]++
		}
	}
	// Every detector and level is exported, zeros included, so alert
	// rules and dashboards see a series before the first finding.
	for name := range a.detection.engine.Detectors() {
		for _, l := range levels {
			ch <- prometheus.MustNewConstMetric(m.active, prometheus.GaugeValue, float64(active[levelKey{name, l}]), name, string(l))
		}
	}
	counts := make(map[levelKey]uint64)
	for _, c := range a.detection.firedCounts() {
		counts[c.levelKey] = c.n
	}
	for name := range a.detection.engine.Detectors() {
		for _, l := range levels {
			ch <- prometheus.MustNewConstMetric(m.total, prometheus.CounterValue, float64(counts[levelKey{name, l}]), name, string(l))
		}
	}
	// Zeros included here too, so the agent-panics alert and its panel
	// have a series to read before the first panic.
	panics := a.detection.engine.Panics()
	for name := range a.detection.engine.Detectors() {
		ch <- prometheus.MustNewConstMetric(m.panics, prometheus.CounterValue, float64(panics[name]), name)
	}
}

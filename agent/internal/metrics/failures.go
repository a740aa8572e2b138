package metrics

import (
	"github.com/asyncmon/asyncmon/model"
	"github.com/prometheus/client_golang/prometheus"
)

// failureMetrics are the metrics of the failures nobody handles: panics,
// calls without a deadline, requests piling up, and crashes of an
// earlier run.
type failureMetrics struct {
	panics, noDeadline                   *prometheus.Desc
	inFlight, started, completed, oldest *prometheus.Desc
	crashTime                            *prometheus.Desc
}

func newFailureMetrics() *failureMetrics {
	return &failureMetrics{
		panics: newDesc("panics_total",
			"Panics recorded since the agent started, by kind (handler, goroutine) and site (the user function and file:line that panicked).", "kind", "site"),
		noDeadline: newDesc("calls_without_deadline_total",
			"Outbound calls made through tracked wrappers with no deadline on their context, by kind (http, sql) and site (the user function and file:line that made them).", "kind", "site"),
		inFlight: newDesc("requests_in_flight",
			"HTTP requests being served now, as seen by the agent's middleware."),
		started: newDesc("requests_started_total",
			"HTTP requests the agent's middleware saw arrive."),
		completed: newDesc("requests_completed_total",
			"HTTP requests the agent's middleware saw finish, whatever the outcome."),
		oldest: newDesc("requests_oldest_age_seconds",
			"Age of the oldest HTTP request in flight (0 when none)."),
		crashTime: newDesc("last_crash_timestamp_seconds",
			"Unix time of the latest crash of an earlier run of this program found at start (0: none kept)."),
	}
}

func (m *failureMetrics) describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.panics, m.noDeadline, m.inFlight, m.started,
		m.completed, m.oldest, m.crashTime} {
		ch <- d
	}
}

func (m *failureMetrics) collect(_ Source, s *model.Snapshot, ch chan<- prometheus.Metric) {
	for _, p := range s.Panics {
		ch <- prometheus.MustNewConstMetric(m.panics, prometheus.CounterValue, float64(p.Count), p.Kind, siteLabel(p.Site))
	}
	for _, c := range s.NoDeadline {
		ch <- prometheus.MustNewConstMetric(m.noDeadline, prometheus.CounterValue, float64(c.Count), c.Kind, siteLabel(c.Site))
	}
	l := s.RequestLoad
	ch <- prometheus.MustNewConstMetric(m.inFlight, prometheus.GaugeValue, float64(l.InFlight))
	ch <- prometheus.MustNewConstMetric(m.started, prometheus.CounterValue, float64(l.StartedTotal))
	ch <- prometheus.MustNewConstMetric(m.completed, prometheus.CounterValue, float64(l.CompletedTotal))
	ch <- prometheus.MustNewConstMetric(m.oldest, prometheus.GaugeValue, l.OldestAgeSeconds)
	crash := 0.0
	if s.Crash != nil && !s.Crash.Time.IsZero() {
		crash = float64(s.Crash.Time.UnixNano()) / 1e9
	}
	ch <- prometheus.MustNewConstMetric(m.crashTime, prometheus.GaugeValue, crash)
}

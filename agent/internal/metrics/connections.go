package metrics

import (
	"github.com/asyncmon/asyncmon/model"
	"github.com/prometheus/client_golang/prometheus"
)

// connMetrics are the connection tracker's metrics. File descriptors
// against their limit come from the process collector (process_open_fds,
// process_max_fds).
type connMetrics struct {
	open, leaked                  *prometheus.Desc
	poolConns, poolMaxOpen        *prometheus.Desc
	poolWaits, poolWaitSeconds    *prometheus.Desc
	poolClosedIdle, poolClosedAge *prometheus.Desc
}

func newConnMetrics() *connMetrics {
	return &connMetrics{
		open: newDesc("connections_open",
			"Open tracked connections by kind (server, client, http-body, sql, sql-rows, sql-tx).", "kind"),
		leaked: newDesc("connections_leaked_total",
			"Tracked connections, response bodies and result sets that became unreachable without being closed: definite leaks.", "kind"),
		poolConns: newDesc("db_pool_connections",
			"Connections of a database/sql pool by state (open = in_use + idle).", "pool", "state"),
		poolMaxOpen: newDesc("db_pool_max_open_connections",
			"The pool's maximum of open connections (0 means unlimited).", "pool"),
		poolWaits: newDesc("db_pool_wait_count_total",
			"Times a caller had to wait for a connection of the pool.", "pool"),
		poolWaitSeconds: newDesc("db_pool_wait_duration_seconds_total",
			"Total time callers waited for a connection of the pool.", "pool"),
		poolClosedIdle: newDesc("db_pool_max_idle_closed_total",
			"Connections of the pool closed by SetMaxIdleConns or SetConnMaxIdleTime.", "pool"),
		poolClosedAge: newDesc("db_pool_max_lifetime_closed_total",
			"Connections of the pool closed by SetConnMaxLifetime.", "pool"),
	}
}

func (m *connMetrics) describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.open, m.leaked, m.poolConns, m.poolMaxOpen,
		m.poolWaits, m.poolWaitSeconds, m.poolClosedIdle, m.poolClosedAge} {
		ch <- d
	}
}

func (m *connMetrics) collect(_ Source, s *model.Snapshot, ch chan<- prometheus.Metric) {
	cs := s.Connections
	if cs.OpenByKind != nil {
		for _, k := range model.ConnKinds() {
			ch <- prometheus.MustNewConstMetric(m.open, prometheus.GaugeValue, float64(cs.OpenByKind[k]), k)
			ch <- prometheus.MustNewConstMetric(m.leaked, prometheus.CounterValue, float64(cs.LeakedTotal[k]), k)
		}
	}
	for _, p := range cs.Pools {
		ch <- prometheus.MustNewConstMetric(m.poolConns, prometheus.GaugeValue, float64(p.Open), p.Name, "open")
		ch <- prometheus.MustNewConstMetric(m.poolConns, prometheus.GaugeValue, float64(p.InUse), p.Name, "in_use")
		ch <- prometheus.MustNewConstMetric(m.poolConns, prometheus.GaugeValue, float64(p.Idle), p.Name, "idle")
		ch <- prometheus.MustNewConstMetric(m.poolMaxOpen, prometheus.GaugeValue, float64(p.MaxOpen), p.Name)
		ch <- prometheus.MustNewConstMetric(m.poolWaits, prometheus.CounterValue, float64(p.WaitCountTotal), p.Name)
		ch <- prometheus.MustNewConstMetric(m.poolWaitSeconds, prometheus.CounterValue, p.WaitSecondsTotal, p.Name)
		ch <- prometheus.MustNewConstMetric(m.poolClosedIdle, prometheus.CounterValue, float64(p.MaxIdleClosedTotal), p.Name)
		ch <- prometheus.MustNewConstMetric(m.poolClosedAge, prometheus.CounterValue, float64(p.MaxLifetimeClosedTotal), p.Name)
	}
}

package metrics

import (
	"github.com/asyncmon/asyncmon/model"
	"github.com/prometheus/client_golang/prometheus"
)

// agentMetrics are the agent's own bounds and refusals: what it dropped,
// cut or refused to stay bounded, and who it turned away. Every label
// value is exported from the start, zeros included, so alert rules see a
// series before the first hit.
type agentMetrics struct {
	limitNames, deniedNames []string
	limits, denied, dumps   *prometheus.Desc
}

func newAgentMetrics(limitNames, deniedNames []string) *agentMetrics {
	return &agentMetrics{
		limitNames:  limitNames,
		deniedNames: deniedNames,
		limits: newDesc("limit_hits_total",
			"Times the agent hit one of its bounds (see docs/security.md): a stream client refused, a slow reader's snapshot dropped, an expensive request refused, a capture not taken or deleted, a table cut, a collector abandoned.", "limit"),
		denied: newDesc("api_denied_total",
			"API requests refused for their credentials: no token, a wrong token, or a Unix socket peer of another user.", "reason"),
		dumps: newDesc("api_stop_the_world_dumps_total",
			"Full goroutine dumps the API took on request (/api/v1/goroutines?full=1, /debug/pprof/goroutine?debug=2); each stops the world for its walk."),
	}
}

func (m *agentMetrics) describe(ch chan<- *prometheus.Desc) {
	ch <- m.limits
	ch <- m.denied
	ch <- m.dumps
}

func (m *agentMetrics) collect(_ Source, s *model.Snapshot, ch chan<- prometheus.Metric) {
	st := s.Agent // as of the snapshot, like every asyncmon metric
	for _, n := range m.limitNames {
		ch <- prometheus.MustNewConstMetric(m.limits, prometheus.CounterValue, float64(st.LimitsHit[n]), n)
	}
	for _, n := range m.deniedNames {
		ch <- prometheus.MustNewConstMetric(m.denied, prometheus.CounterValue, float64(st.Denied[n]), n)
	}
	ch <- prometheus.MustNewConstMetric(m.dumps, prometheus.CounterValue, float64(st.StopTheWorldDumps))
}

package agent_test

import (
	"context"
	"testing"

	"github.com/asyncmon/asyncmon/agent"
)

// TestAlertSeriesBeforeFirstEvent checks that the counters and gauges the
// shipped alert rules read (dashboards/prometheus) have a series from the
// first scrape on, zeros included: a rule over a series that appears only
// after the first event has nothing to evaluate until then, and the
// dashboards' end-to-end test requires every rule to read data.
func TestAlertSeriesBeforeFirstEvent(t *testing.T) {
	a, err := agent.Start(context.Background(), agent.Options{NoListen: true})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	mfs, err := a.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	byLabel := map[string]map[string]bool{} // metric -> label value -> seen
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if byLabel[mf.GetName()] == nil {
					byLabel[mf.GetName()] = map[string]bool{}
				}
				byLabel[mf.GetName()][lp.GetValue()] = true
			}
		}
	}
	for _, tc := range []struct{ metric, label string }{
		{"asyncmon_detector_panics_total", "starvation"},
		{"asyncmon_detector_panics_total", "goroutine-leak"},
		{"asyncmon_detector_panics_total", "deadlock"},
		{"asyncmon_finding_active", "starvation"},
		{"asyncmon_collector_panics_total", "scheduler"},
		{"asyncmon_collector_errors_total", "scheduler"},
	} {
		if !byLabel[tc.metric][tc.label] {
			t.Errorf("%s has no series for %q before any event", tc.metric, tc.label)
		}
	}
}

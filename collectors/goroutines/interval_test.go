package goroutines

import (
	"testing"
	"time"
)

// TestRefreshInterval checks that the interval follows the least of the
// last refreshes' costs, so that one refresh slowed by a loaded machine
// (its wall time counts the wait for a core) does not stop the table for
// half a minute, while a refresh that is costly every time is still
// spaced by the CPU budget.
func TestRefreshInterval(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name  string
		costs []time.Duration
		want  time.Duration
	}{
		{"a slow first refresh waits at most the settle interval", []time.Duration{294 * ms}, settleInterval},
		{"one slow refresh among fast ones", []time.Duration{3 * ms, 294 * ms, 5 * ms}, 2 * time.Second},
		{"costly every time", []time.Duration{300 * ms, 310 * ms, 320 * ms}, 30 * time.Second},
		{"cheap", []time.Duration{ms}, 2 * time.Second},
		{"slow after the fast ones left", []time.Duration{100 * ms, 150 * ms, 120 * ms}, 10 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := refreshInterval(tc.costs, 2*time.Second, 0.01); got != tc.want {
				t.Fatalf("refreshInterval(%v) = %s, want %s", tc.costs, got, tc.want)
			}
		})
	}
}

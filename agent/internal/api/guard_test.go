package api

import (
	"testing"
	"time"
)

// TestDumpRateLimit: one stop-the-world dump per client a minute, and at
// most dumpBurst at once overall, refilled one per dumpEvery.
func TestDumpRateLimit(t *testing.T) {
	g := newGuard(0, nil)
	t0 := time.Unix(1e9, 0)
	steps := []struct {
		client string
		at     time.Duration
		want   bool
	}{
		{"a", 0, true},
		{"a", time.Second, false}, // per client
		{"b", time.Second, true},
		{"c", time.Second, true},
		{"d", time.Second, false},                 // overall burst spent
		{"d", time.Second + dumpEvery, true},      // refilled
		{"a", dumpPerClient - time.Second, false}, // overall still empty
		{"a", dumpPerClient + dumpEvery, true},
	}
	for i, s := range steps {
		ok, wait := g.allowDump(s.client, t0.Add(s.at))
		if ok != s.want || (!ok && wait <= 0) {
			t.Errorf("step %d (%s at %s): allowed %v (wait %s), want %v", i, s.client, s.at, ok, wait, s.want)
		}
	}
}

package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/internal/testenv"
)

// TestWatchRealServers watches each real third-party server for a short
// while through its pprof endpoints, under load, as "asyncmon attach"
// does: the detectors read its goroutines and contention, and no warning
// or critical finding fires on a healthy server. The full measurement is
// ten minutes per server (docs/detectors/README.md); this short one
// catches a detector that mistakes a common server's idle goroutines for
// a leak at once.
func TestWatchRealServers(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts real servers")
	}
	bins := map[string]string{"prometheus": "prometheus", "etcd": "etcd", "caddy": "caddy", "nats": "nats-server"}
	for _, name := range serverNames() {
		t.Run(name, func(t *testing.T) {
			if _, err := lookPath(bins[name]); err != nil {
				testenv.Missing(t, bins[name]+" is not installed (scripts/test.sh installs it)")
			}
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			var log strings.Builder
			r, err := run(ctx, config{Server: name, For: 40 * time.Second, Every: 5 * time.Second, Log: &log})
			if err != nil {
				t.Fatalf("%v\n%s", err, log.String())
			}
			var out strings.Builder
			r.write(&out)
			t.Log(out.String())
			if r.Samples < 5 || r.Goroutines < 5 {
				t.Errorf("%d samples of %d goroutines; want several samples of a running server", r.Samples, r.Goroutines)
			}
			for _, f := range r.Alarms {
				t.Errorf("false alarm on healthy %s: %s %s: %s\n%s", name, f.Level, f.Detector, f.Title, f.Summary)
			}
		})
	}
}

//go:build goexperiment.goroutineleakprofile

package agent

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/agent/capture"
	"github.com/asyncmon/asyncmon/detectors"
	"github.com/asyncmon/asyncmon/findings"
	"github.com/asyncmon/asyncmon/model"
)

// forward ranges over a channel that its caller drops without closing:
// once the caller returns, nothing else can reach the channel, which is
// exactly what the runtime's goroutineleak profile proves.
func forward(updates <-chan int) {
	for range updates { // unreachable-leak-site
	}
}

// TestLeakConfirmedByRuntime runs only in binaries built with
// GOEXPERIMENT=goroutineleakprofile: the growing group is confirmed by the
// runtime, and the finding becomes critical with cause "confirmed".
func TestLeakConfirmedByRuntime(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	t.Cleanup(cancel)
	wg.Go(func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				go forward(make(chan int))
			}
		}
	})
	a := start(t, Options{
		Interval:   200 * time.Millisecond,
		Collectors: []model.Collector{liveGroups()},
		Detectors:  []model.Detector{detectors.NewLeak(detectors.LeakConfig{MinSpan: 3 * time.Second})},
		Lifecycle:  findings.Config{Rules: map[string]findings.Rule{detectors.LeakName: {For: -1}}},
		Capture:    capture.Options{Dir: t.TempDir(), NoCPUProfile: true},
	})
	site := markerSite(t, "unreachable-leak-site")
	f := waitFinding(t, a.Addr(), detectors.LeakName, 60*time.Second, func(f model.Finding) bool {
		return f.Subject == site && f.Level == model.LevelCritical
	})
	if f.Cause != detectors.CauseConfirmed {
		t.Fatalf("cause %q, want %q", f.Cause, detectors.CauseConfirmed)
	}
}

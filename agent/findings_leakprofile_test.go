package agent

import (
	"context"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/agent/capture"
	"github.com/asyncmon/asyncmon/detectors"
	"github.com/asyncmon/asyncmon/findings"
	"github.com/asyncmon/asyncmon/model"
)

// needLeakProfile skips where the runtime has no goroutineleak profile:
// Go 1.26 built without GOEXPERIMENT=goroutineleakprofile.
func needLeakProfile(t *testing.T) {
	t.Helper()
	if pprof.Lookup("goroutineleak") == nil {
		t.Skip("no goroutineleak profile: needs Go 1.27, or GOEXPERIMENT=goroutineleakprofile on Go 1.26")
	}
}

// forward ranges over a channel that its caller drops without closing:
// once the caller returns, nothing else can reach the channel, which is
// exactly what the runtime's goroutineleak profile proves.
func forward(updates <-chan int) {
	for range updates { // unreachable-leak-site
	}
}

// handOver sends its one result to a caller that has gone.
//
//go:noinline
func handOver(res chan<- int) {
	res <- 1 // one-leak-site
}

// TestLeakConfirmedByRuntime: the growing group is confirmed by the
// runtime, and the finding becomes critical with cause "confirmed".
func TestLeakConfirmedByRuntime(t *testing.T) {
	needLeakProfile(t)
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

// TestOneLeakConfirmedAtDefaults leaks a single goroutine at a send
// nobody receives, in an agent at its defaults: suspicion makes the
// goroutine collector read the goroutineleak profile, and the finding is
// critical and confirmed, at a group of one, well within the minute the
// product promises (the deadline here is generous for a loaded machine).
func TestOneLeakConfirmedAtDefaults(t *testing.T) {
	needLeakProfile(t)
	a := start(t, Options{Capture: capture.Options{Dir: t.TempDir(), NoCPUProfile: true}})
	go handOver(make(chan int))
	site := markerSite(t, "one-leak-site")
	f := waitFinding(t, a.Addr(), detectors.LeakName, 90*time.Second, func(f model.Finding) bool {
		return f.Subject == site
	})
	if f.Level != model.LevelCritical || f.Cause != detectors.CauseConfirmed {
		t.Fatalf("level %q cause %q, want critical confirmed: %s", f.Level, f.Cause, f.Summary)
	}
	if !strings.Contains(f.Summary, "1 goroutine") {
		t.Errorf("summary does not say one goroutine: %s", f.Summary)
	}
}

package detectors_test

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/asyncmon/asyncmon/detectors"
	"github.com/asyncmon/asyncmon/findings"
	"github.com/asyncmon/asyncmon/model"
)

// TestLeakRampThenPlateauRealGoroutines starts 40 real goroutines over 20s
// at start-up, as a server's clients or pollers do, and then keeps them
// for good: a ramp that stops is not a leak. The goroutine-leak detector
// runs at its defaults every second for 90s (in a synctest bubble, so the
// clock is the bubble's) and must raise no warning. One group sleeps
// between rounds, the other waits on a channel that is fed now and then.
func TestLeakRampThenPlateauRealGoroutines(t *testing.T) {
	for _, tc := range []struct {
		name string
		wait string
	}{
		{"sleeping clients", model.WaitSleep},
		{"idle workers", model.WaitChanRecv},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				done := make(chan struct{})
				work := make(chan int)
				var wg sync.WaitGroup
				defer wg.Wait()
				defer close(done)
				for i := range 40 {
					wg.Go(func() {
						time.Sleep(time.Duration(i) * 500 * time.Millisecond)
						for {
							if tc.wait == model.WaitSleep {
								select {
								case <-done:
									return
								default:
								}
								time.Sleep(20 * time.Second)
								continue
							}
							select {
							case <-done:
								return
							case <-work:
							}
						}
					})
				}
				s := newSampler(false)
				defer s.close()
				e, err := findings.NewEngine(findings.Config{}, detectors.NewLeak(detectors.LeakConfig{}))
				if err != nil {
					t.Fatal(err)
				}
				for i := range 90 {
					time.Sleep(time.Second)
					if i%7 == 0 && tc.wait != model.WaitSleep {
						work <- i // one worker wakes and goes back to wait
					}
					e.Run(s.take(t))
					for _, f := range e.Findings() {
						if f.Detector == detectors.LeakName && f.State == model.StateFiring && f.Level != model.LevelInfo {
							t.Fatalf("after %ds: %s finding on a ramp that stopped: %s", i+1, f.Level, f.Summary)
						}
					}
				}
			})
		})
	}
}

// Package backoffsleep retries a flaky dependency with exponential
// backoff capped at 45 s: 30 retriers sleep in timers most of the time.
// Healthy.
package backoffsleep

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "backoffsleep", Class: corpus.Healthy,
		Doc: "30 retriers in exponential backoff up to 45 s (timer waits)",
		Run: run,
	})
}

func retrier(ctx context.Context) {
	delay := 100 * time.Millisecond
	for {
		if rand.IntN(20) == 0 { // the dependency answered
			delay = 100 * time.Millisecond
		} else {
			delay = min(2*delay, 45*time.Second)
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return
		}
	}
}

func run(ctx context.Context) {
	for range 30 {
		go retrier(ctx)
	}
}

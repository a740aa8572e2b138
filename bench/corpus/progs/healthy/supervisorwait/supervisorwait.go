// Package supervisorwait starts 6 long-running workers that keep working
// (each a loop with its own ticker) and waits for them with a WaitGroup
// for the life of the process, as a main function does. The waiter is
// parked for ever; the workers make progress. Healthy.
package supervisorwait

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "supervisorwait", Class: corpus.Healthy, Short: true,
		Doc: "a supervisor in wg.Wait for the process's life, its 6 workers busy on tickers",
		Run: run,
	})
}

var processed atomic.Int64

func worker(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			processed.Add(1)
		case <-ctx.Done():
			return
		}
	}
}

func run(ctx context.Context) {
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() { worker(ctx, time.Duration(i+1)*200*time.Millisecond) })
	}
	wg.Wait()
}

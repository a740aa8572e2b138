// Package burstfanout fans a request out to 1,000 goroutines every 10 s
// (a cache warm-up); they all finish within a second. Bursts, not leaks.
// Healthy.
package burstfanout

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "burstfanout", Class: corpus.Healthy, Short: true,
		Doc: "1,000 goroutines fanned out every 10 s, all done within a second",
		Run: run,
	})
}

func warm(keys int) int {
	var wg sync.WaitGroup
	results := make(chan int, keys)
	for k := range keys {
		wg.Go(func() {
			time.Sleep(time.Duration(100+rand.IntN(600)) * time.Millisecond) // the backend
			results <- k
		})
	}
	wg.Wait()
	close(results)
	n := 0
	for range results {
		n++
	}
	return n
}

func run(ctx context.Context) {
	for ctx.Err() == nil {
		warm(1000)
		time.Sleep(10 * time.Second)
	}
}

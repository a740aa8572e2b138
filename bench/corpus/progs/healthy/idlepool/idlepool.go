// Package idlepool is a worker pool that was busy at start-up and has
// been idle since: 32 workers wait on the jobs channel, which a global
// pool keeps and may feed at any time. Healthy.
package idlepool

import (
	"context"
	"sync/atomic"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "idlepool", Class: corpus.Healthy,
		Doc: "32 pool workers idle on a jobs channel after a start-up burst",
		Run: run,
	})
}

type Pool struct {
	jobs chan func()
	done atomic.Int64
}

var pool = &Pool{jobs: make(chan func())}

func (p *Pool) worker(ctx context.Context) {
	for {
		select {
		case j := <-p.jobs:
			j()
			p.done.Add(1)
		case <-ctx.Done():
			return
		}
	}
}

func run(ctx context.Context) {
	for range 32 {
		go pool.worker(ctx)
	}
	// The start-up burst: warm the caches.
	for i := range 500 {
		pool.jobs <- func() { _ = i * i }
	}
}

// Package barrierstall runs a simulation in rounds: a sync.Cond barrier
// releases the workers when all have arrived. One worker first waits for
// its input shard on a channel, and the loader that should send it
// skips shards it considers empty, so that worker never arrives and the
// others wait at the barrier for ever.
package barrierstall

import (
	"context"
	"sync"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "barrierstall", Class: corpus.ChannelCond, Leaks: 16,
		Doc: "round barrier on sync.Cond: one worker waits for a shard the loader skipped; it and 15 others stop",
		Run: run,
	})
}

type Barrier struct {
	mu      sync.Mutex
	cond    *sync.Cond
	n       int
	arrived int
	round   int
}

func newBarrier(n int) *Barrier {
	b := &Barrier{n: n}
	b.cond = sync.NewCond(&b.mu)
	return b
}

func (b *Barrier) Await() {
	b.mu.Lock()
	defer b.mu.Unlock()
	round := b.round
	b.arrived++
	if b.arrived == b.n {
		b.arrived = 0
		b.round++
		b.cond.Broadcast()
		return
	}
	for round == b.round {
		b.cond.Wait() // want
	}
}

func worker(id int, b *Barrier, shards <-chan []float64) {
	for round := 0; ; round++ {
		if id == 0 && round == 50 {
			s := <-shards // want
			_ = s
		}
		sum := 0.0
		for i := range 1000 {
			sum += float64(i * id)
		}
		_ = sum
		b.Await()
	}
}

func run(ctx context.Context) {
	b := newBarrier(16)
	shards := make(chan []float64)
	for id := range 16 {
		go worker(id, b, shards)
	}
	// The loader: the one shard due is empty and skipped.
	for _, s := range [][]float64{{}} {
		if len(s) == 0 {
			continue
		}
		shards <- s
	}
	<-ctx.Done()
}

// Package condslow is a sync.Cond producer/consumer where the producer
// is slow (an item every 3 s) and 8 consumers wait most of the time.
// Slow but alive. Healthy.
package condslow

import (
	"context"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "condslow", Class: corpus.Healthy, Short: true,
		Doc: "8 consumers in Cond.Wait, a producer adding an item every 3 s",
		Run: run,
	})
}

type Queue struct {
	mu    sync.Mutex
	cond  *sync.Cond
	items []string
}

func (q *Queue) take() string {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.items) == 0 {
		q.cond.Wait()
	}
	it := q.items[0]
	q.items = q.items[1:]
	return it
}

func (q *Queue) put(it string) {
	q.mu.Lock()
	q.items = append(q.items, it)
	q.mu.Unlock()
	q.cond.Signal()
}

func run(ctx context.Context) {
	q := &Queue{}
	q.cond = sync.NewCond(&q.mu)
	for range 8 {
		go func() {
			for {
				_ = q.take()
				time.Sleep(10 * time.Millisecond)
			}
		}()
	}
	for ctx.Err() == nil {
		q.put("report")
		time.Sleep(3 * time.Second)
	}
}

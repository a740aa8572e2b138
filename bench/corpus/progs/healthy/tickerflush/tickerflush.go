// Package tickerflush flushes metrics on a ticker every 10 s and
// compacts on another every 25 s: long timer waits that always wake.
// Healthy.
package tickerflush

import (
	"context"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "tickerflush", Class: corpus.Healthy, Short: true,
		Doc: "metrics flusher and compactor on 10 s and 25 s tickers",
		Run: run,
	})
}

type metrics struct {
	mu      sync.Mutex
	counts  map[string]int
	flushed int
}

func (m *metrics) loop(ctx context.Context, every time.Duration, f func()) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			f()
		case <-ctx.Done():
			return
		}
	}
}

func run(ctx context.Context) {
	m := &metrics{counts: map[string]int{}}
	go m.loop(ctx, 10*time.Second, func() {
		m.mu.Lock()
		m.flushed += len(m.counts)
		clear(m.counts)
		m.mu.Unlock()
	})
	go m.loop(ctx, 25*time.Second, func() {})
	for ctx.Err() == nil {
		m.mu.Lock()
		m.counts["requests"]++
		m.mu.Unlock()
		time.Sleep(300 * time.Millisecond)
	}
}

// Package statsflush aggregates request statistics. Recorders take the
// aggregator's lock and, when the window is full, send the window to the
// flusher on a small buffered channel, still holding the lock. The
// flusher takes the same lock to reset a gauge before it reads the next
// window: once the buffer is full, recorder and flusher wait on each
// other and every recorder queues on the lock.
package statsflush

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "statsflush", Class: corpus.ChannelLock, Leaks: 33,
		Doc: "stats aggregator: a recorder sends a full window under the lock; the flusher needs the lock first; 32 recorders and the flusher stop",
		Run: run,
	})
}

type Aggregator struct {
	mu       sync.Mutex
	window   []time.Duration
	inflight int
	windows  chan []time.Duration
}

func (a *Aggregator) Record(d time.Duration) {
	a.mu.Lock() // want
	defer a.mu.Unlock()
	a.window = append(a.window, d)
	if len(a.window) == 64 {
		a.windows <- a.window // want
		a.window = nil
	}
}

func (a *Aggregator) flusher() {
	for {
		a.mu.Lock() // want
		a.inflight = 0
		a.mu.Unlock()
		w := <-a.windows
		time.Sleep(time.Duration(len(w)) * 200 * time.Microsecond) // write to the TSDB
	}
}

func run(ctx context.Context) {
	a := &Aggregator{windows: make(chan []time.Duration, 2)}
	go a.flusher()
	for range 32 {
		go func() {
			for ctx.Err() == nil {
				a.Record(time.Duration(rand.IntN(1000)) * time.Microsecond)
				time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
			}
		}()
	}
}

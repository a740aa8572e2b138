// Package nilcaseselect is a healthy batcher that uses the nil-channel
// idiom: a select case on a nil channel is never chosen, so the flush
// timer and the output case are nil while there is nothing to do. The
// batchers sit in such selects, idle, between rare inputs.
package nilcaseselect

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "nilcaseselect", Class: corpus.Healthy,
		Doc: "8 batchers idle in selects whose flush and output cases are nil channels while empty; an input every 25 s",
		Run: run,
	})
}

var flushed atomic.Int64

// batch collects inputs and flushes them 2 s after the first one.
func batch(ctx context.Context, in <-chan string, out chan<- []string) {
	var pending []string
	var flush <-chan time.Time // nil while empty: that case is off
	var ready [][]string
	var send chan<- []string // nil while nothing is ready
	for {
		var next []string
		if len(ready) > 0 {
			send, next = out, ready[0]
		} else {
			send = nil
		}
		select {
		case m := <-in:
			pending = append(pending, m)
			if flush == nil {
				flush = time.After(2 * time.Second)
			}
		case <-flush:
			ready = append(ready, pending)
			pending, flush = nil, nil
		case send <- next:
			ready = ready[1:]
		case <-ctx.Done():
			return
		}
	}
}

func sink(ctx context.Context, out <-chan []string) {
	for {
		select {
		case b := <-out:
			flushed.Add(int64(len(b)))
		case <-ctx.Done():
			return
		}
	}
}

func run(ctx context.Context) {
	out := make(chan []string)
	go sink(ctx, out)
	ins := make([]chan string, 8)
	for i := range ins {
		ins[i] = make(chan string)
		go batch(ctx, ins[i], out)
	}
	for i := 0; ctx.Err() == nil; i++ {
		select {
		case ins[i%len(ins)] <- fmt.Sprint("event ", i):
		case <-ctx.Done():
			return
		}
		time.Sleep(25 * time.Second)
	}
}

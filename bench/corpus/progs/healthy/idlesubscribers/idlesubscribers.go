// Package idlesubscribers is a pub/sub broker with 200 subscribers on a
// topic that receives a message every 20 s: the subscribers sit in
// channel receives on channels a global broker holds. Healthy.
package idlesubscribers

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "idlesubscribers", Class: corpus.Healthy,
		Doc: "200 subscribers waiting on their channels; a publish every 20 s",
		Run: run,
	})
}

type Broker struct {
	mu   sync.Mutex
	subs []chan string
}

var broker = &Broker{}

func (b *Broker) Subscribe() <-chan string {
	ch := make(chan string, 4)
	b.mu.Lock()
	b.subs = append(b.subs, ch)
	b.mu.Unlock()
	return ch
}

func (b *Broker) Publish(m string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, ch := range b.subs {
		select {
		case ch <- m:
		default: // a slow subscriber drops a message
		}
	}
}

var received atomic.Int64

func run(ctx context.Context) {
	for range 200 {
		ch := broker.Subscribe()
		go func() {
			for range ch {
				received.Add(1)
			}
		}()
	}
	broker.Publish("hello")
	for ctx.Err() == nil {
		time.Sleep(20 * time.Second)
		broker.Publish("price update")
	}
}

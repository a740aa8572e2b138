// Package eventbus delivers events to handlers while holding the bus's
// lock. A handler that reacts to "user.created" subscribes a new handler,
// which needs that lock; the dispatcher holds it while waiting for the
// handler to take the next event.
package eventbus

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "eventbus", Class: corpus.ChannelLock, Leaks: 5, Short: true,
		Doc: "event bus: Publish sends to a handler under the lock; the handler calls Subscribe (lock); bus, handler and 3 publishers stop",
		Run: run,
	})
}

type Bus struct {
	mu       sync.Mutex
	handlers map[string][]chan string
}

func (b *Bus) Subscribe(topic string) chan string {
	ch := make(chan string)
	b.mu.Lock() // want
	b.handlers[topic] = append(b.handlers[topic], ch)
	b.mu.Unlock()
	return ch
}

func (b *Bus) Publish(topic, ev string) {
	b.mu.Lock() // want
	defer b.mu.Unlock()
	for _, ch := range b.handlers[topic] {
		ch <- ev // want
	}
}

func run(ctx context.Context) {
	b := &Bus{handlers: map[string][]chan string{}}
	users := b.Subscribe("user.created")
	go func() {
		for ev := range users {
			// Welcome mails are sent by a handler created per user. Once
			// the bus is deadlocked nothing can publish to it again, so
			// these handlers are stuck by the bug too.
			mails := b.Subscribe("mail." + ev)
			go func() {
				for range mails { // want
				}
			}()
		}
	}()
	for p := range 3 {
		go func() {
			for i := 0; ctx.Err() == nil; i++ {
				b.Publish("user.created", fmt.Sprintf("u%d-%d", p, i))
				time.Sleep(10 * time.Millisecond)
			}
		}()
	}
}

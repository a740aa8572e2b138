// Package pubsubdrop is an in-process pub/sub broker. A subscriber that
// stops reading (its client went away) is never unsubscribed, so the
// next publish to its topic blocks on its channel, and the publishers of
// that topic queue behind it. The broker is global: the channels stay
// reachable.
package pubsubdrop

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "pubsubdrop", Class: corpus.Channel, Leaks: 4, Reachable: "global broker",
		Doc: "pub/sub: a gone subscriber is never unsubscribed; 4 publishers block on its channel",
		Run: run,
	})
}

type Broker struct {
	mu   sync.Mutex
	subs map[string][]chan string
}

var broker = &Broker{subs: map[string][]chan string{}}

func (b *Broker) Subscribe(topic string) <-chan string {
	ch := make(chan string)
	b.mu.Lock()
	b.subs[topic] = append(b.subs[topic], ch)
	b.mu.Unlock()
	return ch
}

func (b *Broker) Publish(topic, msg string) {
	b.mu.Lock()
	subs := append([]chan string(nil), b.subs[topic]...)
	b.mu.Unlock()
	for _, ch := range subs {
		ch <- msg // want
	}
}

func run(ctx context.Context) {
	// A websocket client follows the "orders" topic, then disconnects
	// after 20 messages; its handler returns without unsubscribing.
	ws := broker.Subscribe("orders")
	go func() {
		for range 20 {
			<-ws
		}
	}()
	// A healthy consumer of another topic.
	audit := broker.Subscribe("audit")
	go func() {
		for range audit {
		}
	}()
	for p := range 4 {
		go func() {
			for i := 0; ctx.Err() == nil; i++ {
				broker.Publish("orders", fmt.Sprintf("order %d-%d", p, i))
				broker.Publish("audit", "published")
				time.Sleep(50 * time.Millisecond)
			}
		}()
	}
}

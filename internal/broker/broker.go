// Package broker is a bounded fan-out that never blocks its publisher,
// used by the agent to stream snapshots to its Server-Sent Events clients.
package broker

import (
	"sync"
	"sync/atomic"
)

// Broker fans values out to subscribers. Publishing never blocks: each
// subscriber has a one-slot mailbox, and a subscriber that has not taken
// the previous value gets the newer one in its place. A slow subscriber
// therefore sees fewer values, and never stalls the publisher. Its methods
// are safe for concurrent use.
type Broker[T any] struct {
	max int

	mu   sync.Mutex // guards subs
	subs map[chan T]struct{}

	// refused and dropped count the bounds hit (Refused, Dropped).
	refused, dropped atomic.Uint64
}

// Refused counts the subscribers turned away because Max were subscribed.
func (b *Broker[T]) Refused() uint64 { return b.refused.Load() }

// Dropped counts the values a slow subscriber missed: replaced in its
// mailbox by a newer one before it took them.
func (b *Broker[T]) Dropped() uint64 { return b.dropped.Load() }

// Len returns the number of subscribers.
func (b *Broker[T]) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

// New returns a broker that takes at most max subscribers at once.
func New[T any](max int) *Broker[T] {
	return &Broker[T]{max: max, subs: make(map[chan T]struct{})}
}

// Max returns the most subscribers the broker takes at once.
func (b *Broker[T]) Max() int { return b.max }

// Subscribe returns a mailbox, or nil when there are too many subscribers.
func (b *Broker[T]) Subscribe() chan T {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.subs) >= b.max {
		b.refused.Add(1)
		return nil
	}
	ch := make(chan T, 1)
	b.subs[ch] = struct{}{}
	return ch
}

// Unsubscribe removes a mailbox Subscribe returned.
func (b *Broker[T]) Unsubscribe(ch chan T) {
	b.mu.Lock()
	delete(b.subs, ch)
	b.mu.Unlock()
}

// Publish puts v in every mailbox, replacing a value not yet taken.
func (b *Broker[T]) Publish(v T) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- v:
			continue
		default:
		}
		select { // full: drop the stale value, keep the newest
		case <-ch:
			b.dropped.Add(1)
		default:
		}
		select {
		case ch <- v:
		default:
		}
	}
}

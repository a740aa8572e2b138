// Package watchnoclose watches a key-value store for changes. Each
// watcher selects on the event channel and its context; the store drops
// a watch when its key is deleted without closing the event channel, and
// the watchers run under a context that is never cancelled. They wait
// for ever; the store, a global, still holds their channels.
package watchnoclose

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "watchnoclose", Class: corpus.ChannelContext, Leaks: 20, Reachable: "global store",
		Doc: "KV watch: deleting a key drops its watch without closing the channel; 20 watchers under a never-cancelled context",
		Run: run,
	})
}

type Store struct {
	mu      sync.Mutex
	data    map[string]string
	watches map[string][]chan string
	dropped []chan string // kept for metrics
}

var store = &Store{data: map[string]string{}, watches: map[string][]chan string{}}

func (s *Store) Watch(key string) <-chan string {
	ch := make(chan string, 1)
	s.mu.Lock()
	s.watches[key] = append(s.watches[key], ch)
	s.mu.Unlock()
	return ch
}

func (s *Store) Put(key, v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data[key] = v
	for _, ch := range s.watches[key] {
		select {
		case ch <- v:
		default:
		}
	}
}

func (s *Store) Delete(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.data, key)
	s.dropped = append(s.dropped, s.watches[key]...)
	delete(s.watches, key)
}

func follow(ctx context.Context, key string) {
	events := store.Watch(key)
	for {
		select { // want
		case v := <-events:
			_ = v
		case <-ctx.Done():
			return
		}
	}
}

func run(ctx context.Context) {
	// The watchers run under the background context: nothing cancels them.
	for i := range 20 {
		go follow(context.Background(), fmt.Sprint("lease/", i))
	}
	for round := 0; round < 20 && ctx.Err() == nil; round++ {
		for i := range 20 {
			store.Put(fmt.Sprint("lease/", i), fmt.Sprint(round))
		}
		time.Sleep(50 * time.Millisecond)
	}
	for i := range 20 {
		store.Delete(fmt.Sprint("lease/", i)) // leases expire
	}
	for ctx.Err() == nil {
		store.Put("heartbeat", time.Now().String())
		time.Sleep(time.Second)
	}
}

// Package registryrw is a metrics registry guarded by an RWMutex whose
// Register takes the write lock and then calls Lookup, which takes the
// read lock: a goroutine waits for itself. Only the one registering
// goroutine blocks at first; the scrape loop and request handlers then
// queue behind it.
package registryrw

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "registryrw", Class: corpus.DoubleLock, Leaks: 6,
		Doc: "metrics registry: Register holds the write lock and calls Lookup (read lock); registrar, scraper and 4 handlers stop",
		Run: run,
	})
}

type Counter struct {
	name string
	n    int64
}

type Registry struct {
	mu       sync.RWMutex
	counters map[string]*Counter
}

func (r *Registry) Lookup(name string) *Counter {
	r.mu.RLock() // want
	defer r.mu.RUnlock()
	return r.counters[name]
}

func (r *Registry) Register(name string) *Counter {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c := r.Lookup(name); c != nil {
		return c
	}
	c := &Counter{name: name}
	r.counters[name] = c
	return c
}

func (r *Registry) Scrape() int {
	r.mu.RLock() // want
	defer r.mu.RUnlock()
	return len(r.counters)
}

func run(ctx context.Context) {
	r := &Registry{counters: map[string]*Counter{}}
	go func() {
		for ctx.Err() == nil {
			_ = r.Scrape()
			time.Sleep(500 * time.Millisecond)
		}
	}()
	for i := range 4 {
		go func() {
			for ctx.Err() == nil {
				if c := r.Lookup(fmt.Sprint("http_requests_", i)); c != nil {
					c.n++
				}
				time.Sleep(10 * time.Millisecond)
			}
		}()
	}
	time.Sleep(2 * time.Second)
	// A plugin loaded late registers its counter.
	r.Register("plugin_loads")
}

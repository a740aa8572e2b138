// Package cachefill is a read-through cache whose miss path refreshes the
// entry while already holding the cache's lock: the first miss locks the
// mutex twice, and every later request queues behind it.
package cachefill

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "cachefill", Class: corpus.DoubleLock, Leaks: 40, Short: true,
		Doc: "read-through cache: a miss refreshes under the lock it already holds; 40 request goroutines pile up",
		Run: run,
	})
}

type Cache struct {
	mu      sync.Mutex
	entries map[string]string
	load    func(string) string
}

func (c *Cache) Get(key string) string {
	c.mu.Lock() // want
	defer c.mu.Unlock()
	if v, ok := c.entries[key]; ok {
		return v
	}
	return c.refresh(key)
}

// refresh loads a key and stores it. It is also called on its own by the
// background refresher, so it takes the lock itself.
func (c *Cache) refresh(key string) string {
	v := c.load(key)
	c.mu.Lock() // want
	c.entries[key] = v
	c.mu.Unlock()
	return v
}

func run(ctx context.Context) {
	c := &Cache{entries: map[string]string{}, load: func(k string) string { return "value-of-" + k }}
	// Warm the cache so that the first requests hit.
	for i := range 8 {
		c.refresh(fmt.Sprint("user-", i))
	}
	for range 40 {
		go func() {
			for ctx.Err() == nil {
				c.Get(fmt.Sprint("user-", rand.IntN(10))) // two keys are cold
				time.Sleep(time.Duration(5+rand.IntN(20)) * time.Millisecond)
			}
		}()
	}
}

// Package rwreaders is a configuration read by 40 goroutines under an
// RWMutex, with a writer every 2 s that holds the lock 50 ms. Readers
// queue behind the writer, then go on. Healthy.
package rwreaders

import (
	"context"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "rwreaders", Class: corpus.Healthy,
		Doc: "40 RLock readers and a writer holding the lock 50 ms every 2 s",
		Run: run,
	})
}

type Config struct {
	mu sync.RWMutex
	v  map[string]string
}

func (c *Config) Get(k string) string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.v[k]
}

func (c *Config) Replace(v map[string]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	time.Sleep(50 * time.Millisecond) // validating the new file
	c.v = v
}

func run(ctx context.Context) {
	c := &Config{v: map[string]string{"mode": "a"}}
	for range 40 {
		go func() {
			for ctx.Err() == nil {
				_ = c.Get("mode")
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	for ctx.Err() == nil {
		time.Sleep(2 * time.Second)
		c.Replace(map[string]string{"mode": "b"})
	}
}

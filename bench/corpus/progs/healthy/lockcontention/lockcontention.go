// Package lockcontention is a hot counter map under one mutex: 50
// goroutines contend, each holding it briefly. Many goroutines wait on
// the same lock all the time, but every wait ends. Healthy.
package lockcontention

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
		Name: "lockcontention", Class: corpus.Healthy,
		Doc: "50 goroutines contending for one mutex, each holding it ~1 ms",
		Run: run,
	})
}

type Counters struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *Counters) Inc(k string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[k]++
	time.Sleep(time.Millisecond) // a slow write-through
}

func run(ctx context.Context) {
	c := &Counters{m: map[string]int{}}
	for range 50 {
		go func() {
			for ctx.Err() == nil {
				c.Inc(fmt.Sprint("k", rand.IntN(10)))
			}
		}()
	}
}

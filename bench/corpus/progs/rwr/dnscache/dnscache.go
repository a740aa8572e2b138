// Package dnscache resolves names through a cache: Resolve holds the read
// lock while following a CNAME chain through resolveLocked, which takes
// the read lock for each hop. The refresher's Lock between two hops
// deadlocks one resolver with it; the other resolvers queue.
package dnscache

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
		Name: "dnscache", Class: corpus.RWR, Leaks: 5,
		Doc: "DNS cache: CNAME hops re-take the read lock while the refresher waits to Lock; 4 resolvers and the refresher stop",
		Run: run,
	})
}

type record struct {
	cname string
	addr  string
}

type Cache struct {
	mu      sync.RWMutex
	records map[string]record
}

func (c *Cache) Resolve(name string) string {
	c.mu.RLock() // want
	defer c.mu.RUnlock()
	return c.follow(name, 0)
}

func (c *Cache) follow(name string, depth int) string {
	rec, ok := c.records[name]
	if !ok || depth > 4 {
		return ""
	}
	if rec.cname == "" {
		return rec.addr
	}
	time.Sleep(200 * time.Microsecond) // check the record's TTL
	return c.hop(rec.cname, depth+1)
}

// hop follows one CNAME; it is also used on its own by the prefetcher.
func (c *Cache) hop(name string, depth int) string {
	c.mu.RLock() // want
	defer c.mu.RUnlock()
	return c.follow(name, depth)
}

func (c *Cache) Refresh() {
	c.mu.Lock() // want
	defer c.mu.Unlock()
	for k, r := range c.records {
		if r.addr != "" {
			r.addr = fmt.Sprintf("10.1.%d.%d", rand.IntN(255), rand.IntN(255))
			c.records[k] = r
		}
	}
}

func run(ctx context.Context) {
	c := &Cache{records: map[string]record{
		"api.internal":    {cname: "lb-1.internal"},
		"lb-1.internal":   {cname: "node-7.internal"},
		"node-7.internal": {addr: "10.1.0.7"},
		"db.internal":     {addr: "10.1.0.9"},
	}}
	names := []string{"api.internal", "db.internal", "lb-1.internal"}
	for range 4 {
		go func() {
			for ctx.Err() == nil {
				c.Resolve(names[rand.IntN(len(names))])
				time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
			}
		}()
	}
	go func() {
		for ctx.Err() == nil {
			time.Sleep(20 * time.Millisecond)
			c.Refresh()
		}
	}()
}

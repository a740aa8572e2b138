// Package routetable is an HTTP router whose Match takes the read lock
// and, for a prefix route, calls Lookup, which takes the read lock again.
// That is fine until the route reloader asks for the write lock between
// the two: the nested RLock then waits for the writer, which waits for
// the first RLock.
package routetable

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "routetable", Class: corpus.RWR, Leaks: 25, Short: true,
		Doc: "router: Match RLocks and calls Lookup (RLock again) while the reloader waits to Lock; 24 handlers and the reloader stop",
		Run: run,
	})
}

type Router struct {
	mu     sync.RWMutex
	routes map[string]string
}

func (r *Router) Lookup(path string) (string, bool) {
	r.mu.RLock() // want
	defer r.mu.RUnlock()
	h, ok := r.routes[path]
	return h, ok
}

func (r *Router) Match(path string) string {
	r.mu.RLock() // want
	defer r.mu.RUnlock()
	if h, ok := r.routes[path]; ok {
		return h
	}
	if i := strings.LastIndexByte(path, '/'); i > 0 {
		time.Sleep(50 * time.Microsecond) // normalise the prefix
		if h, ok := r.Lookup(path[:i] + "/*"); ok {
			return h
		}
	}
	return "notFound"
}

func (r *Router) Reload(routes map[string]string) {
	r.mu.Lock() // want
	defer r.mu.Unlock()
	r.routes = routes
}

func table(gen int) map[string]string {
	return map[string]string{"/": "index", "/users/*": fmt.Sprint("users-v", gen), "/health": "health"}
}

func run(ctx context.Context) {
	r := &Router{routes: table(0)}
	for range 24 {
		go func() {
			for ctx.Err() == nil {
				r.Match(fmt.Sprint("/users/", rand.IntN(1000)))
				time.Sleep(time.Duration(rand.IntN(3)) * time.Millisecond)
			}
		}()
	}
	go func() {
		for gen := 1; ctx.Err() == nil; gen++ {
			time.Sleep(100 * time.Millisecond)
			r.Reload(table(gen))
		}
	}()
}

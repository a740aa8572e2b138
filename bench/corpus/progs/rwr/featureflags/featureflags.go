// Package featureflags evaluates feature flags for requests. A flag can
// depend on another, and Enabled evaluates the dependency by calling
// itself, taking the read lock again. A flag update (write lock) landing
// between the two blocks that request and, behind the writer, every
// request: a thousand of them.
package featureflags

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "featureflags", Class: corpus.RWR, Leaks: 1000, Reachable: "global flag set",
		Doc: "feature flags: a dependent flag re-enters Enabled (RLock) while an update waits to Lock; 1,000 requests stop",
		Run: run,
	})
}

type flag struct {
	percent  int
	requires string
}

type Flags struct {
	mu    sync.RWMutex
	flags map[string]flag
}

var flags = &Flags{flags: map[string]flag{
	"new-checkout": {percent: 50, requires: "new-cart"},
	"new-cart":     {percent: 100},
	"dark-mode":    {percent: 10},
}}

func (f *Flags) Enabled(name string, user int) bool {
	f.mu.RLock() // want
	defer f.mu.RUnlock()
	fl, ok := f.flags[name]
	if !ok || user%100 >= fl.percent {
		return false
	}
	if fl.requires != "" {
		time.Sleep(100 * time.Microsecond) // audit log
		return f.Enabled(fl.requires, user)
	}
	return true
}

func (f *Flags) Set(name string, percent int) {
	f.mu.Lock() // want
	defer f.mu.Unlock()
	fl := f.flags[name]
	fl.percent = percent
	f.flags[name] = fl
}

func handle(user int) string {
	if flags.Enabled("new-checkout", user) {
		return "checkout-v2"
	}
	return "checkout-v1"
}

func run(ctx context.Context) {
	// Requests arrive steadily, each in its own goroutine, as in net/http.
	go func() {
		for i := 0; ctx.Err() == nil && i < 1000; i++ {
			go handle(rand.IntN(10_000))
			time.Sleep(2 * time.Millisecond)
		}
	}()
	for pct := 0; ctx.Err() == nil; pct = (pct + 10) % 100 {
		time.Sleep(5 * time.Millisecond)
		flags.Set("dark-mode", pct)
	}
}

// Package tokenrefresh caches an OAuth token behind an RWMutex. Token
// returns early with no token when the cached one has expired, leaving
// its read lock held. The refresher's Lock then waits for ever, and every
// later reader queues behind the waiting writer.
package tokenrefresh

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "tokenrefresh", Class: corpus.MissingUnlock, Leaks: 10, Reachable: "global token source",
		Doc: "token cache: Token returns on expiry without RUnlock; the refresher and 9 API callers stop",
		Run: run,
	})
}

type TokenSource struct {
	mu      sync.RWMutex
	token   string
	expires time.Time
}

var tokens = &TokenSource{}

func (t *TokenSource) Token() string {
	t.mu.RLock() // want
	if time.Now().After(t.expires) {
		return ""
	}
	tok := t.token
	t.mu.RUnlock()
	return tok
}

func (t *TokenSource) refresh(n int) {
	t.mu.Lock() // want
	defer t.mu.Unlock()
	t.token = fmt.Sprint("tok-", n)
	t.expires = time.Now().Add(time.Second)
}

func run(ctx context.Context) {
	tokens.refresh(0)
	for range 9 {
		go func() {
			for ctx.Err() == nil {
				if tokens.Token() == "" {
					time.Sleep(5 * time.Millisecond) // retry once refreshed
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	// The refresher runs a little late: tokens can expire before it.
	for n := 1; ctx.Err() == nil; n++ {
		time.Sleep(1100 * time.Millisecond)
		tokens.refresh(n)
	}
}

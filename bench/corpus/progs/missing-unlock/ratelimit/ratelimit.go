// Package ratelimit is a token-bucket limiter per API key. When a key's
// bucket is disabled, Allow returns early and forgets to unlock; every
// request after that waits for the limiter's lock.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "ratelimit", Class: corpus.MissingUnlock, Leaks: 50, Short: true,
		Doc: "rate limiter: the disabled-key path returns without Unlock; 50 request goroutines stop",
		Run: run,
	})
}

var errDisabled = errors.New("key disabled")

type bucket struct {
	tokens   float64
	last     time.Time
	disabled bool
}

type Limiter struct {
	mu      sync.Mutex
	rate    float64
	buckets map[string]*bucket
}

func (l *Limiter) Allow(key string) (bool, error) {
	l.mu.Lock() // want
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.rate, last: time.Now()}
		l.buckets[key] = b
	}
	if b.disabled {
		return false, errDisabled
	}
	now := time.Now()
	b.tokens = min(l.rate, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	allowed := b.tokens >= 1
	if allowed {
		b.tokens--
	}
	l.mu.Unlock()
	return allowed, nil
}

func (l *Limiter) Disable(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.buckets[key]; ok {
		b.disabled = true
	}
}

func run(ctx context.Context) {
	l := &Limiter{rate: 100, buckets: map[string]*bucket{}}
	for range 50 {
		go func() {
			for ctx.Err() == nil {
				l.Allow(fmt.Sprint("key-", rand.IntN(20)))
				time.Sleep(time.Duration(rand.IntN(10)) * time.Millisecond)
			}
		}()
	}
	time.Sleep(2 * time.Second)
	l.Disable("key-13") // abuse detected
}

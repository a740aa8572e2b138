// Package poolexhaust is a hand-written connection pool whose Get returns
// an error when the pool is at its limit and forgets the lock on that
// path. The first request that meets a full pool takes the pool down:
// every other request waits for the lock, 200 of them.
package poolexhaust

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "poolexhaust", Class: corpus.MissingUnlock, Leaks: 200,
		Doc: "connection pool: Get at the limit returns ErrExhausted without Unlock; 200 request goroutines stop",
		Run: run,
	})
}

var ErrExhausted = errors.New("pool exhausted")

type Pool struct {
	mu    sync.Mutex
	idle  []net.Conn
	open  int
	limit int
	dial  func() (net.Conn, error)
}

func (p *Pool) Get() (net.Conn, error) {
	p.mu.Lock() // want
	if n := len(p.idle); n > 0 {
		c := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return c, nil
	}
	if p.open >= p.limit {
		return nil, ErrExhausted
	}
	p.open++
	p.mu.Unlock()
	return p.dial()
}

func (p *Pool) Put(c net.Conn) {
	p.mu.Lock() // want
	p.idle = append(p.idle, c)
	p.mu.Unlock()
}

func run(ctx context.Context) {
	p := &Pool{limit: 8, dial: func() (net.Conn, error) {
		a, b := net.Pipe()
		go func() { <-ctx.Done(); b.Close() }()
		return a, nil
	}}
	for range 200 {
		go func() {
			for ctx.Err() == nil {
				c, err := p.Get()
				if err != nil {
					time.Sleep(10 * time.Millisecond)
					continue
				}
				time.Sleep(time.Duration(rand.IntN(40)) * time.Millisecond) // the query
				p.Put(c)
			}
		}()
	}
}

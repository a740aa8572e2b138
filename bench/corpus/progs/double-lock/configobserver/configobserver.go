// Package configobserver is a configuration holder that notifies its
// observers while holding its lock; one observer reads the configuration
// back through Get, which locks again.
package configobserver

import (
	"context"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "configobserver", Class: corpus.DoubleLock, Leaks: 3,
		Doc: "config holder: Set notifies observers under its lock and one calls Get; the reloader and 2 readers stop",
		Run: run,
	})
}

type Config struct {
	mu        sync.Mutex
	values    map[string]string
	observers []func(key string)
}

func (c *Config) Get(key string) string {
	c.mu.Lock() // want
	defer c.mu.Unlock()
	return c.values[key]
}

func (c *Config) Set(key, value string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.values[key] = value
	for _, o := range c.observers {
		o(key)
	}
}

func (c *Config) Observe(f func(key string)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.observers = append(c.observers, f)
}

type server struct {
	logLevel string
}

func run(ctx context.Context) {
	c := &Config{values: map[string]string{"log.level": "info", "pool.size": "8"}}
	srv := &server{}
	for range 2 {
		go func() {
			for ctx.Err() == nil {
				_ = c.Get("pool.size")
				time.Sleep(50 * time.Millisecond)
			}
		}()
	}
	time.Sleep(time.Second)
	// The server wants to know when the log level changes.
	c.Observe(func(key string) {
		if key == "log.level" {
			srv.logLevel = c.Get("log.level")
		}
	})
	// The reloader applies a new file.
	go func() {
		c.Set("log.level", "debug")
	}()
}

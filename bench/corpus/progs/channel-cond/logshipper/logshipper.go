// Package logshipper buffers log records and ships them from a goroutine
// that waits on a sync.Cond for records. Close asks the shipper to stop
// by sending on a channel, but the shipper only checks that channel
// after waking from the Cond, which no one signals once the service is
// draining. Close and the shipper wait for each other.
package logshipper

import (
	"context"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "logshipper", Class: corpus.ChannelCond, Leaks: 2, Reachable: "global shipper",
		Doc: "log shipper: Close sends a stop on a channel while the shipper sleeps in Cond.Wait; 2 goroutines",
		Run: run,
	})
}

type Shipper struct {
	mu      sync.Mutex
	cond    *sync.Cond
	records []string
	stop    chan struct{}
	shipped int
}

var shipper = newShipper()

func newShipper() *Shipper {
	s := &Shipper{stop: make(chan struct{})}
	s.cond = sync.NewCond(&s.mu)
	return s
}

func (s *Shipper) Log(r string) {
	s.mu.Lock()
	s.records = append(s.records, r)
	s.mu.Unlock()
	s.cond.Signal()
}

func (s *Shipper) loop() {
	for {
		s.mu.Lock()
		for len(s.records) == 0 {
			s.cond.Wait() // want
		}
		batch := s.records
		s.records = nil
		s.mu.Unlock()
		s.shipped += len(batch)
		select {
		case <-s.stop:
			return
		default:
		}
	}
}

func (s *Shipper) Close() {
	s.stop <- struct{}{} // want
}

func run(ctx context.Context) {
	go shipper.loop()
	for i := 0; i < 200 && ctx.Err() == nil; i++ {
		shipper.Log("request served")
		time.Sleep(5 * time.Millisecond)
	}
	// Draining for a config change: stop the shipper, then restart it.
	shipper.Close()
	go shipper.loop()
}

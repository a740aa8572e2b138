// Package jobretry runs jobs from a queue under the scheduler's lock (to
// record their state) and recovers a panicking job so that the worker
// survives. The recovery does not release the lock: after the first
// panic, every worker waits for it.
package jobretry

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
		Name: "jobretry", Class: corpus.MissingUnlock, Leaks: 8,
		Doc: "job scheduler: a panicking job is recovered without releasing the state lock; 8 workers stop",
		Run: run,
	})
}

type Job struct {
	ID  int
	Run func() error
}

type Scheduler struct {
	mu    sync.Mutex
	state map[int]string
	queue chan Job
}

func (s *Scheduler) execute(j Job) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("job %d panicked: %v", j.ID, r)
		}
	}()
	s.mu.Lock() // want
	s.state[j.ID] = "running"
	err = j.Run()
	s.state[j.ID] = "done"
	s.mu.Unlock()
	return err
}

func (s *Scheduler) worker(ctx context.Context) {
	for {
		select {
		case j := <-s.queue:
			if err := s.execute(j); err != nil {
				_ = err // logged and retried later
			}
		case <-ctx.Done():
			return
		}
	}
}

func run(ctx context.Context) {
	s := &Scheduler{state: map[int]string{}, queue: make(chan Job, 64)}
	for range 8 {
		go s.worker(ctx)
	}
	for id := 0; ctx.Err() == nil; id++ {
		var m map[string]int // a job with a missing config map
		j := Job{ID: id, Run: func() error { time.Sleep(time.Millisecond); return nil }}
		if id == 300 {
			j.Run = func() error { m["retries"]++; return nil }
		}
		select { // want
		case s.queue <- j:
		case <-ctx.Done():
			return
		}
		time.Sleep(time.Duration(rand.IntN(10)) * time.Millisecond)
	}
}

// Package boundedqueue is a bounded work queue built on sync.Cond. The
// dispatcher puts jobs and, after each Put, reads the job's completion
// on a channel; the consumer takes a job and sends the previous job's
// completion first. With the queue full, Put waits for the consumer,
// which waits to send a completion the dispatcher will read only after
// Put returns.
package boundedqueue

import (
	"context"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "boundedqueue", Class: corpus.ChannelCond, Leaks: 2, Short: true,
		Doc: "bounded queue on sync.Cond: Put waits for space while the consumer waits to report a completion; 2 goroutines",
		Run: run,
	})
}

type Queue struct {
	mu       sync.Mutex
	notFull  *sync.Cond
	notEmpty *sync.Cond
	items    []int
	max      int
}

func newQueue(max int) *Queue {
	q := &Queue{max: max}
	q.notFull = sync.NewCond(&q.mu)
	q.notEmpty = sync.NewCond(&q.mu)
	return q
}

func (q *Queue) Put(v int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.items) == q.max {
		q.notFull.Wait() // want
	}
	q.items = append(q.items, v)
	q.notEmpty.Signal()
}

func (q *Queue) Take() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.items) == 0 {
		q.notEmpty.Wait()
	}
	v := q.items[0]
	q.items = q.items[1:]
	q.notFull.Signal()
	return v
}

func consumer(q *Queue, done chan<- int) {
	prev := -1
	for {
		v := q.Take()
		if prev >= 0 {
			done <- prev // want
		}
		time.Sleep(time.Millisecond) // the job
		prev = v
	}
}

func run(ctx context.Context) {
	q := newQueue(4)
	done := make(chan int)
	go consumer(q, done)
	completed := 0
	for job := 0; ctx.Err() == nil; job++ {
		q.Put(job)
		if job%3 == 2 { // reads completions in batches
			for range 2 {
				<-done
				completed++
			}
		}
	}
}

// Package nilqueue is a mail sender whose workers read from the queue of
// a config struct; one code path builds the config without making the
// queue, so those workers receive from a nil channel.
package nilqueue

import (
	"context"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "nilqueue", Class: corpus.Channel, Leaks: 10,
		Doc: "mail sender: the retry workers receive from a queue channel that was never made (nil); 10 goroutines",
		Run: run,
	})
}

type Mailer struct {
	queue      chan string
	retryQueue chan string
	sent       int
}

func newMailer(withRetries bool) *Mailer {
	m := &Mailer{queue: make(chan string, 16)}
	if withRetries {
		// Bug: the retry queue was meant to be made here; it is made only
		// in tests.
		_ = m
	}
	return m
}

func (m *Mailer) retryWorker() {
	for msg := range m.retryQueue { // want
		_ = msg
	}
}

func (m *Mailer) worker(ctx context.Context) {
	for {
		select {
		case msg := <-m.queue:
			m.sent += len(msg) & 1
		case <-ctx.Done():
			return
		}
	}
}

func run(ctx context.Context) {
	m := newMailer(true)
	go m.worker(ctx)
	for range 10 {
		go m.retryWorker()
	}
	for ctx.Err() == nil {
		m.queue <- "welcome"
		time.Sleep(100 * time.Millisecond)
	}
}

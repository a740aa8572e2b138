// Package retrydeadline uploads a report with retries. The uploader
// goroutine stops retrying when the job's context ends and returns
// without sending a result; the caller waits for the result with a
// context that has no deadline. One goroutine (the caller) blocks.
package retrydeadline

import (
	"context"
	"errors"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "retrydeadline", Class: corpus.ChannelContext, Leaks: 1,
		Doc: "report upload: the retrier gives up on its deadline without sending a result; the caller waits for ever (1 goroutine)",
		Run: run,
	})
}

var errUnavailable = errors.New("storage unavailable")

func upload(ctx context.Context, report []byte, done chan<- error) {
	for attempt := 0; ; attempt++ {
		if err := put(report); err == nil {
			done <- nil
			return
		}
		select {
		case <-time.After(time.Duration(attempt+1) * 100 * time.Millisecond):
		case <-ctx.Done():
			return // bug: the caller is not told
		}
	}
}

func put([]byte) error { return errUnavailable }

func nightlyReport(ctx context.Context) error {
	jobCtx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	done := make(chan error)
	go upload(jobCtx, []byte("report"), done)
	select { // want
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func run(ctx context.Context) {
	// The scheduler's context lives as long as the service.
	_ = nightlyReport(context.WithoutCancel(ctx))
}

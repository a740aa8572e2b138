// Package streamcancel serves a stream per request. Each stream starts a
// goroutine that forwards until its context is cancelled, but the cancel
// function is dropped on the early-return path, so those goroutines
// wait on a Done channel that no one can close.
package streamcancel

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "streamcancel", Class: corpus.ChannelContext, Leaks: 500,
		Doc: "streams: the early-return path drops the cancel func; ~500 forwarders wait on ctx.Done for ever",
		Run: run,
	})
}

func forward(ctx context.Context, src <-chan []byte) {
	for {
		select { // want
		case b, ok := <-src:
			if !ok {
				return
			}
			_ = b
		case <-ctx.Done():
			return
		}
	}
}

type stream struct {
	src    chan []byte
	cancel context.CancelFunc
}

func openStream(id int) error {
	ctx, cancel := context.WithCancel(context.Background())
	st := &stream{src: make(chan []byte), cancel: cancel}
	go forward(ctx, st.src)
	if id%3 == 0 {
		// Unauthorised: return early; the deferred cancel below is never
		// reached.
		return context.Canceled
	}
	defer st.cancel()
	for range 2 {
		st.src <- []byte("frame")
	}
	close(st.src)
	return nil
}

func run(ctx context.Context) {
	for i := 0; i < 1500 && ctx.Err() == nil; i++ {
		_ = openStream(i)
		time.Sleep(time.Duration(rand.IntN(8)) * time.Millisecond)
	}
}

// Package pipelinecancel runs a three-stage pipeline every 5 s and
// cancels it half way (a client gone): every stage watches the context,
// so all its goroutines exit. Healthy.
package pipelinecancel

import (
	"context"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "pipelinecancel", Class: corpus.Healthy, Short: true,
		Doc: "a 3-stage, 20-goroutine pipeline started every 5 s and cancelled half way; all stages exit",
		Run: run,
	})
}

func gen(ctx context.Context, n int) <-chan int {
	out := make(chan int)
	go func() {
		defer close(out)
		for i := range n {
			select {
			case out <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

func square(ctx context.Context, in <-chan int) <-chan int {
	out := make(chan int)
	go func() {
		defer close(out)
		for v := range in {
			select {
			case out <- v * v:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

func once(parent context.Context) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	src := gen(ctx, 1_000_000)
	var outs []<-chan int
	for range 18 {
		outs = append(outs, square(ctx, src))
	}
	seen := 0
	for seen < 5000 {
		for _, o := range outs {
			if _, ok := <-o; ok {
				seen++
			}
		}
	}
}

func run(ctx context.Context) {
	for ctx.Err() == nil {
		once(ctx)
		time.Sleep(5 * time.Second)
	}
}

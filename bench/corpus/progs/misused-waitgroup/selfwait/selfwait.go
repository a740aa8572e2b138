// Package selfwait runs a warm-up of cache shards; each shard loader,
// when it is the last configured shard, waits for "all loaders" to be
// done before publishing readiness, including itself. The last loader
// waits on its own Done, and the readiness check waits for it.
package selfwait

import (
	"context"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "selfwait", Class: corpus.MisusedWaitGroup, Leaks: 2, Reachable: "global warm-up state",
		Doc: "shard warm-up: the last loader waits on the WaitGroup it belongs to; it and the readiness waiter stop",
		Run: run,
	})
}

type warmup struct {
	loaders sync.WaitGroup
	ready   chan struct{}
	shards  []map[string]string
}

var w = &warmup{ready: make(chan struct{})}

func (w *warmup) load(i int) {
	defer w.loaders.Done()
	time.Sleep(time.Duration(10*(i+1)) * time.Millisecond)
	w.shards[i] = map[string]string{"loaded": "yes"}
	if i == len(w.shards)-1 {
		w.loaders.Wait() // want
		close(w.ready)
	}
}

func run(ctx context.Context) {
	w.shards = make([]map[string]string, 6)
	for i := range w.shards {
		w.loaders.Add(1)
		go w.load(i)
	}
	select { // want
	case <-w.ready:
	case <-ctx.Done():
	}
}

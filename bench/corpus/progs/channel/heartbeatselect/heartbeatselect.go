// Package heartbeatselect monitors worker heartbeats. Each monitor
// selects on its worker's heartbeat and failure channels; a worker that
// finished its work simply returns, closing neither, so its monitor
// waits on two dead channels. The supervisor keeps every worker record,
// so the channels stay reachable from a live goroutine.
package heartbeatselect

import (
	"context"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "heartbeatselect", Class: corpus.Channel, Leaks: 64, Reachable: "live supervisor",
		Doc: "heartbeat monitors select on a finished worker's channels, which nobody closes; 64 monitors",
		Run: run,
	})
}

type worker struct {
	id     int
	beat   chan struct{}
	failed chan error
}

func (w *worker) work(n int) {
	for range n {
		time.Sleep(10 * time.Millisecond)
		select {
		case w.beat <- struct{}{}:
		default:
		}
	}
	// Done: returns without closing beat or failed.
}

func monitor(w *worker, restarts chan<- int) {
	for {
		select { // want
		case <-w.beat:
		case <-w.failed:
			restarts <- w.id
			return
		}
	}
}

func run(ctx context.Context) {
	restarts := make(chan int)
	var all []*worker
	for i := range 64 {
		w := &worker{id: i, beat: make(chan struct{}, 1), failed: make(chan error)}
		all = append(all, w)
		go w.work(20 + i)
		go monitor(w, restarts)
	}
	// The supervisor restarts failed workers and reports.
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case id := <-restarts:
			go all[id].work(10)
		case <-t.C:
			_ = len(all)
		case <-ctx.Done():
			return
		}
	}
}

// Package batchershutdown batches log lines: producers send on the
// batcher's channel, and the flusher stops when its own context (a child
// cancelled on a config reload) ends. The producers' sends do not watch
// that context, so after the reload every producer blocks for ever.
package batchershutdown

import (
	"context"
	"fmt"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "batchershutdown", Class: corpus.ChannelContext, Leaks: 100,
		Doc: "log batcher: the flusher exits on its context while 100 producers send without watching it",
		Run: run,
	})
}

type Batcher struct {
	lines chan string
	sink  func([]string)
}

func (b *Batcher) flusher(ctx context.Context) {
	var batch []string
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case l := <-b.lines:
			batch = append(batch, l)
		case <-t.C:
			if len(batch) > 0 {
				b.sink(batch)
				batch = nil
			}
		case <-ctx.Done():
			return
		}
	}
}

func (b *Batcher) Log(line string) {
	b.lines <- line // want
}

func run(ctx context.Context) {
	b := &Batcher{lines: make(chan string), sink: func([]string) {}}
	fctx, reload := context.WithCancel(ctx)
	go b.flusher(fctx)
	for w := range 100 {
		go func() {
			for i := 0; ctx.Err() == nil; i++ {
				b.Log(fmt.Sprintf("worker %d: request %d done", w, i))
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	time.Sleep(2 * time.Second)
	reload() // config reload: the flusher is meant to be restarted, but is not
	<-ctx.Done()
}

// Package skippedadd resizes uploaded images: it adds the number of
// images to a WaitGroup up front, then skips the ones already resized
// without calling Done for them. Each batch with a cached image waits
// for ever.
package skippedadd

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "skippedadd", Class: corpus.MisusedWaitGroup, Leaks: 20, Short: true,
		Doc: "image resizer: wg.Add(len(images)) then skipping cached ones without Done; 20 batch goroutines wait for ever",
		Run: run,
	})
}

type Resizer struct {
	mu    sync.Mutex
	cache map[string]bool
}

func (r *Resizer) resize(name string) {
	time.Sleep(2 * time.Millisecond)
	r.mu.Lock()
	r.cache[name] = true
	r.mu.Unlock()
}

func (r *Resizer) Batch(images []string) {
	var wg sync.WaitGroup
	wg.Add(len(images))
	for _, img := range images {
		r.mu.Lock()
		done := r.cache[img]
		r.mu.Unlock()
		if done {
			continue
		}
		go func() {
			defer wg.Done()
			r.resize(img)
		}()
	}
	wg.Wait() // want
}

func run(ctx context.Context) {
	r := &Resizer{cache: map[string]bool{}}
	for i := 0; i < 40 && ctx.Err() == nil; i++ {
		// Every other upload repeats an image of the previous one.
		images := []string{fmt.Sprint("img-", i, ".jpg"), fmt.Sprint("img-", i-i%2, ".jpg")}
		go r.Batch(images)
		time.Sleep(100 * time.Millisecond)
	}
}

// Package earlyreturn indexes documents in parallel; each indexer calls
// Done at its end, not deferred, and returns early on a document it
// cannot parse. Every batch with a bad document waits for ever, and the
// indexing service keeps accepting batches: hundreds of goroutines.
package earlyreturn

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "earlyreturn", Class: corpus.MisusedWaitGroup, Leaks: 200,
		Doc: "indexer: Done is skipped on the parse-error return; 200 batch requests wait for ever",
		Run: run,
	})
}

type Index struct {
	mu    sync.Mutex
	terms map[string]int
}

func parse(doc string) ([]string, error) {
	if doc == "" {
		return nil, errors.New("empty document")
	}
	return []string{doc}, nil
}

func (ix *Index) add(doc string, wg *sync.WaitGroup) {
	terms, err := parse(doc)
	if err != nil {
		return
	}
	ix.mu.Lock()
	for _, t := range terms {
		ix.terms[t]++
	}
	ix.mu.Unlock()
	wg.Done()
}

func (ix *Index) Batch(docs []string) {
	var wg sync.WaitGroup
	for _, d := range docs {
		wg.Add(1)
		go ix.add(d, &wg)
	}
	wg.Wait() // want
}

func run(ctx context.Context) {
	ix := &Index{terms: map[string]int{}}
	for i := 0; i < 1000 && ctx.Err() == nil; i++ {
		docs := []string{fmt.Sprint("doc", i), fmt.Sprint("doc", i+1)}
		if i%5 == 0 {
			docs = append(docs, "") // a blank upload
		}
		go ix.Batch(docs)
		time.Sleep(15 * time.Millisecond)
	}
}

// Package mapreduce counts words: mappers wait for the reducer's "ready"
// channel before emitting, and the reducer closes "ready" only after the
// mappers are done (wg.Wait), a cycle introduced when the reducer learned
// to preallocate from the mappers' counts.
package mapreduce

import (
	"context"
	"strings"
	"sync"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "mapreduce", Class: corpus.ChannelWaitGroup, Leaks: 9, Reachable: "global job",
		Doc: "map-reduce: mappers wait on a ready channel the reducer closes after wg.Wait; 8 mappers and the reducer stop",
		Run: run,
	})
}

type Job struct {
	mappers sync.WaitGroup
	ready   chan struct{}
	out     chan map[string]int
	sizes   []int
	mu      sync.Mutex
}

var job = &Job{ready: make(chan struct{}), out: make(chan map[string]int, 8)}

func (j *Job) mapper(text string) {
	defer j.mappers.Done()
	counts := map[string]int{}
	for _, w := range strings.Fields(text) {
		counts[w]++
	}
	j.mu.Lock()
	j.sizes = append(j.sizes, len(counts))
	j.mu.Unlock()
	<-j.ready // want
	j.out <- counts
}

func (j *Job) reduce() map[string]int {
	j.mappers.Wait() // want
	total := 0
	for _, n := range j.sizes {
		total += n
	}
	close(j.ready)
	result := make(map[string]int, total)
	for range len(j.sizes) {
		for w, n := range <-j.out {
			result[w] += n
		}
	}
	return result
}

func run(ctx context.Context) {
	docs := []string{"a b c", "b c d", "c d e", "d e f", "e f g", "f g h", "g h i", "h i j"}
	for _, d := range docs {
		job.mappers.Add(1)
		go job.mapper(d)
	}
	_ = job.reduce()
}

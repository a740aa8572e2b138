// Package pipelineabort checksums files in a pipeline: a fan-out of
// hashing stages sends into an unbuffered results channel, and the
// collector returns at the first error without draining it. Every hasher
// still holding a result blocks for ever: a thousand goroutines at once.
package pipelineabort

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "pipelineabort", Class: corpus.Channel, Leaks: 1000,
		Doc: "checksum pipeline: the collector returns on the first error; ~1,000 hashers block sending their result",
		Run: run,
	})
}

type result struct {
	name string
	sum  [32]byte
	err  error
}

func hash(name string, data []byte, out chan<- result) {
	if len(data) == 0 {
		out <- result{name: name, err: errors.New("empty file")} // want
		return
	}
	out <- result{name: name, sum: sha256.Sum256(data)} // want
}

func checksumAll(files map[string][]byte) (map[string][32]byte, error) {
	out := make(chan result)
	for name, data := range files {
		go hash(name, data, out)
	}
	sums := map[string][32]byte{}
	for range files {
		r := <-out
		if r.err != nil {
			return nil, fmt.Errorf("%s: %w", r.name, r.err)
		}
		sums[r.name] = r.sum
	}
	return sums, nil
}

func run(ctx context.Context) {
	files := map[string][]byte{}
	for i := range 1000 {
		files[fmt.Sprintf("blob-%04d", i)] = []byte(fmt.Sprint("content ", i))
	}
	files["blob-0500"] = nil // truncated upload
	// A first batch without the bad file works.
	ok := map[string][]byte{"a": []byte("a"), "b": []byte("b")}
	if _, err := checksumAll(ok); err != nil {
		panic(err)
	}
	_, _ = checksumAll(files)
	<-ctx.Done()
}

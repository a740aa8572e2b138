// Package firsterror validates a batch of records in parallel: workers
// send results to a channel, a closer goroutine waits for them and closes
// it, and the caller reads until the first invalid record and returns.
// The workers behind it block on their sends and the closer on Wait.
package firsterror

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "firsterror", Class: corpus.ChannelWaitGroup, Leaks: 300,
		Doc: "parallel validation: the caller returns on the first error; per batch, workers block on send and the closer on Wait (~300)",
		Run: run,
	})
}

type record struct {
	id    int
	email string
}

func validate(r record, errs chan<- error, wg *sync.WaitGroup) {
	defer wg.Done()
	var err error
	if r.email == "" {
		err = fmt.Errorf("record %d: no email", r.id)
	}
	errs <- err // want
}

func validateAll(rs []record) error {
	errs := make(chan error)
	var wg sync.WaitGroup
	for _, r := range rs {
		wg.Add(1)
		go validate(r, errs, &wg)
	}
	go func() {
		wg.Wait() // want
		close(errs)
	}()
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func run(ctx context.Context) {
	for batch := 0; batch < 12 && ctx.Err() == nil; batch++ {
		var rs []record
		for i := range 50 {
			rs = append(rs, record{id: i, email: fmt.Sprint("u", i, "@example.com")})
		}
		if batch%2 == 1 {
			rs[10].email = "" // an import with a bad row
		}
		_ = validateAll(rs)
		time.Sleep(200 * time.Millisecond)
	}
}

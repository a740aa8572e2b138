// Package actorinbox runs 100 actors (one per tenant), each a goroutine
// selecting on its inbox and a quit channel; most tenants are quiet, a
// few get a message every few seconds. Healthy.
package actorinbox

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "actorinbox", Class: corpus.Healthy,
		Doc: "100 actors selecting on inbox and quit; a few messages every few seconds",
		Run: run,
	})
}

type actor struct {
	inbox chan string
	quit  chan struct{}
	state map[string]int
}

func (a *actor) loop() {
	for {
		select {
		case m := <-a.inbox:
			a.state[m]++
		case <-a.quit:
			return
		}
	}
}

func run(ctx context.Context) {
	var actors []*actor
	for range 100 {
		a := &actor{inbox: make(chan string, 8), quit: make(chan struct{}), state: map[string]int{}}
		actors = append(actors, a)
		go a.loop()
	}
	for ctx.Err() == nil {
		// Tenants 0-4 are active.
		actors[rand.IntN(5)].inbox <- "event"
		time.Sleep(3 * time.Second)
	}
	for _, a := range actors {
		close(a.quit)
	}
}

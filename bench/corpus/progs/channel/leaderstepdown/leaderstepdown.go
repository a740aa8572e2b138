// Package leaderstepdown is a raft-like node. As leader it runs a loop
// that sends heartbeats until told to step down on stepDown; the term
// change path replaces the node's channel with a new one before anybody
// signals the old one, so the old leader loop waits for ever on a
// channel that the live node no longer holds.
package leaderstepdown

import (
	"context"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "leaderstepdown", Class: corpus.Channel, Leaks: 1,
		Doc: "raft-like node: a new term replaces stepDown before signalling it; the old leader loop waits for ever (1 goroutine)",
		Run: run,
	})
}

type Node struct {
	mu       sync.Mutex
	term     int
	stepDown chan struct{}
	beats    int
}

func (n *Node) becomeLeader() {
	n.mu.Lock()
	n.term++
	ch := make(chan struct{})
	n.stepDown = ch
	n.mu.Unlock()
	go n.lead(ch)
}

func (n *Node) lead(stepDown chan struct{}) {
	for i := 0; i < 3; i++ { // the first heartbeats
		n.mu.Lock()
		n.beats++
		n.mu.Unlock()
	}
	<-stepDown // want
}

// observeTerm is called when a message with a higher term arrives.
func (n *Node) observeTerm(term int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if term > n.term {
		n.term = term
		n.stepDown = make(chan struct{}) // bug: the old one is never closed
	}
}

func run(ctx context.Context) {
	n := &Node{}
	n.becomeLeader()
	time.Sleep(500 * time.Millisecond)
	n.observeTerm(7) // a partitioned peer won an election
	// The follower loop goes on.
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			n.mu.Lock()
			n.beats = 0
			n.mu.Unlock()
		case <-ctx.Done():
			return
		}
	}
}

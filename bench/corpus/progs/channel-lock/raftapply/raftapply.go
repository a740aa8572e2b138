// Package raftapply is a raft-like leader loop. The leader holds the
// node's lock while it hands committed entries to the apply loop on an
// unbuffered channel; every 100 entries the apply loop snapshots its
// state with the node's term, read under the same lock. They deadlock at
// the first snapshot taken in the middle of a batch; clients proposing
// entries queue on the lock.
package raftapply

import (
	"context"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "raftapply", Class: corpus.ChannelLock, Leaks: 7, Reachable: "global node",
		Doc: "raft-like node: the leader sends to the apply loop under the lock, the apply loop takes the lock for a snapshot; leader, applier and 5 clients stop",
		Run: run,
	})
}

type entry struct {
	term, index int
	cmd         string
}

type Node struct {
	mu        sync.Mutex
	term      int
	log       []entry
	committed int
	applyCh   chan entry
}

var node = &Node{applyCh: make(chan entry)}

func (n *Node) Term() int {
	n.mu.Lock() // want
	defer n.mu.Unlock()
	return n.term
}

func (n *Node) Propose(cmd string) {
	n.mu.Lock() // want
	defer n.mu.Unlock()
	n.log = append(n.log, entry{term: n.term, index: len(n.log), cmd: cmd})
}

func (n *Node) leaderLoop(ctx context.Context) {
	for ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
		n.mu.Lock()
		for n.committed < len(n.log) {
			n.applyCh <- n.log[n.committed] // want
			n.committed++
		}
		n.mu.Unlock()
	}
}

func (n *Node) applyLoop() {
	state := map[string]int{}
	for {
		e := <-n.applyCh
		state[e.cmd]++
		if e.index%100 == 99 {
			// Every 100 entries, snapshot the state with the current term.
			_ = n.Term()
		}
	}
}

func run(ctx context.Context) {
	go node.leaderLoop(ctx)
	go node.applyLoop()
	for range 5 {
		go func() {
			for ctx.Err() == nil {
				node.Propose("set x=1")
				time.Sleep(3 * time.Millisecond)
			}
		}()
	}
}

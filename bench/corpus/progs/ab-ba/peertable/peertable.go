// Package peertable keeps a table of peers. Adding a peer locks the table
// and then the peer to copy its address; a peer closing locks itself and
// then the table to remove itself. One peer flapping while the gossip
// loop adds it again deadlocks the two; one goroutine each.
package peertable

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "peertable", Class: corpus.ABBA, Leaks: 2,
		Doc: "peer table: Add locks table→peer, Close locks peer→table; gossip and a flapping peer deadlock (2 goroutines)",
		Run: run,
	})
}

type Peer struct {
	mu     sync.Mutex
	addr   string
	closed bool
	table  *Table
}

type Table struct {
	mu    sync.Mutex
	peers map[string]*Peer
}

func (t *Table) Add(p *Peer) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p.mu.Lock() // want
	addr := p.addr
	p.mu.Unlock()
	t.peers[addr] = p
}

func (p *Peer) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	time.Sleep(time.Millisecond) // flush the send queue
	p.table.mu.Lock()            // want
	delete(p.table.peers, p.addr)
	p.table.mu.Unlock()
}

func run(ctx context.Context) {
	t := &Table{peers: map[string]*Peer{}}
	flappy := &Peer{addr: "10.0.0.7:7000", table: t}
	// The gossip loop re-adds every known peer.
	go func() {
		for i := 0; ctx.Err() == nil; i++ {
			t.Add(flappy)
			t.Add(&Peer{addr: fmt.Sprintf("10.0.1.%d:7000", i%200), table: t})
			time.Sleep(time.Millisecond)
		}
	}()
	// The flapping peer's connection drops and comes back.
	go func() {
		for ctx.Err() == nil {
			flappy.Close()
			flappy.mu.Lock()
			flappy.closed = false
			flappy.mu.Unlock()
			time.Sleep(time.Millisecond)
		}
	}()
}

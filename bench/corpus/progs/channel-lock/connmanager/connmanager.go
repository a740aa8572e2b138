// Package connmanager tracks client connections. Closing the manager
// holds its lock while it waits for each connection's reader to say it
// is done; a reader that is between two messages removes itself from
// the manager first, which needs the lock. Shutdown hangs.
package connmanager

import (
	"context"
	"net"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "connmanager", Class: corpus.ChannelLock, Leaks: 2,
		Doc: "connection manager: Close waits for readers' done channels under the lock; readers need the lock to leave; Close and one reader stop",
		Run: run,
	})
}

type conn struct {
	c    net.Conn
	done chan struct{}
}

type Manager struct {
	mu    sync.Mutex
	conns map[*conn]bool
}

func (m *Manager) serve(c *conn) {
	defer close(c.done)
	buf := make([]byte, 64)
	for {
		c.c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if _, err := c.c.Read(buf); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			m.remove(c)
			return
		}
	}
}

func (m *Manager) remove(c *conn) {
	m.mu.Lock() // want
	delete(m.conns, c)
	m.mu.Unlock()
}

func (m *Manager) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for c := range m.conns {
		c.c.Close()
		<-c.done // want
	}
}

func run(ctx context.Context) {
	m := &Manager{conns: map[*conn]bool{}}
	for range 8 {
		a, b := net.Pipe()
		c := &conn{c: a, done: make(chan struct{})}
		m.conns[c] = true
		go m.serve(c)
		go func() {
			for ctx.Err() == nil {
				b.Write([]byte("ping"))
				time.Sleep(10 * time.Millisecond)
			}
		}()
	}
	time.Sleep(time.Second)
	m.Close() // the admin endpoint restarts the listener
}

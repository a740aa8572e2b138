// Package servershutdown is a TCP server whose connection handlers
// report each request on an events channel read by the server's main
// loop. Shutdown, called from that same loop, waits for the handlers with
// a WaitGroup; a handler in the middle of reporting blocks on the
// channel nobody reads any more.
package servershutdown

import (
	"bufio"
	"context"
	"net"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "servershutdown", Class: corpus.ChannelWaitGroup, Leaks: 11, Reachable: "live client connections",
		Doc: "TCP server: Shutdown waits for handlers that block reporting to the loop calling Shutdown; the loop and 10 handlers stop",
		Run: run,
	})
}

type Server struct {
	ln       net.Listener
	handlers sync.WaitGroup
	events   chan string
}

func (s *Server) handle(c net.Conn) {
	defer s.handlers.Done()
	defer c.Close()
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		s.events <- line // want
		c.Write([]byte("ok\n"))
	}
}

func (s *Server) acceptLoop() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.handlers.Add(1)
		go s.handle(c)
	}
}

func (s *Server) Shutdown() {
	s.ln.Close()
	s.handlers.Wait() // want
}

func (s *Server) mainLoop(stop <-chan struct{}) {
	served := 0
	for {
		select {
		case <-s.events:
			served++
		case <-stop:
			s.Shutdown()
			return
		}
	}
}

func run(ctx context.Context) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	s := &Server{ln: ln, events: make(chan string)}
	go s.acceptLoop()
	stop := make(chan struct{})
	go s.mainLoop(stop)
	for range 10 {
		go func() {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				return
			}
			defer c.Close()
			r := bufio.NewReader(c)
			for ctx.Err() == nil {
				c.Write([]byte("GET /status\n"))
				c.SetReadDeadline(time.Now().Add(time.Second))
				if _, err := r.ReadString('\n'); err != nil {
					// The server stopped answering; the client keeps its
					// connection open and tries again later.
					time.Sleep(time.Second)
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	time.Sleep(2 * time.Second)
	close(stop) // SIGHUP: restart
}

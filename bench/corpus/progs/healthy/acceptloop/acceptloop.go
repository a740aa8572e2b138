// Package acceptloop is a line-protocol TCP server with 40 connected
// clients that talk rarely: an accept loop and 40 handlers blocked in
// reads. Healthy.
package acceptloop

import (
	"bufio"
	"context"
	"net"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "acceptloop", Class: corpus.Healthy,
		Doc: "TCP server: accept loop and 40 handlers in reads, clients writing every ~20 s",
		Run: run,
	})
}

func handle(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		c.Write([]byte("echo " + line))
	}
}

func run(ctx context.Context) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go func() { <-ctx.Done(); ln.Close() }()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go handle(c)
		}
	}()
	for i := range 40 {
		go func() {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				return
			}
			defer c.Close()
			r := bufio.NewReader(c)
			time.Sleep(time.Duration(i) * 500 * time.Millisecond)
			for ctx.Err() == nil {
				c.Write([]byte("PING\n"))
				r.ReadString('\n')
				time.Sleep(20 * time.Second)
			}
		}()
	}
}

// Package auditnil is an API server that writes an audit record for
// every write request. The audit channel is made only when an audit sink
// is configured; with none, the handlers still send to it, on a nil
// channel, and each write request's goroutine blocks for ever.
package auditnil

import (
	"context"
	"fmt"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "auditnil", Class: corpus.Channel, Leaks: 30,
		Doc: "API server: write handlers send audit records to a channel made only when a sink is configured (nil here); 30 handlers",
		Run: run,
	})
}

type Server struct {
	audit chan string // made by enableAudit only
	data  map[string]string
	reads int
}

func (s *Server) enableAudit(sink func(string)) {
	s.audit = make(chan string, 64)
	go func() {
		for rec := range s.audit {
			sink(rec)
		}
	}()
}

func (s *Server) handle(method, key string) {
	if method == "GET" {
		s.reads++
		return
	}
	s.audit <- fmt.Sprintf("%s %s at %s", method, key, time.Now().Format(time.RFC3339)) // want
}

func run(ctx context.Context) {
	s := &Server{data: map[string]string{}}
	if sink := ""; sink != "" { // no sink configured
		s.enableAudit(func(string) {})
	}
	reqs := make(chan [2]string)
	go func() { // the request loop: reads inline, writes in their own goroutine
		for r := range reqs {
			if r[0] == "GET" {
				s.handle(r[0], r[1])
				continue
			}
			go s.handle(r[0], r[1])
		}
	}()
	for i := 0; ctx.Err() == nil; i++ {
		m := "GET"
		if i%4 == 0 && i < 120 {
			m = "PUT"
		}
		reqs <- [2]string{m, fmt.Sprint("k", i%10)}
		time.Sleep(25 * time.Millisecond)
	}
	close(reqs)
}

// Package longpoll serves long-poll requests that wait up to 25 s for an
// event; events are published every 40 s, so most polls time out and are
// renewed. 50 handlers are parked at any time. Healthy.
package longpoll

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "longpoll", Class: corpus.Healthy,
		Doc: "50 long-poll handlers waiting up to 25 s for rare events",
		Run: run,
	})
}

type Hub struct {
	mu      sync.Mutex
	waiters []chan string
}

func (h *Hub) wait() chan string {
	ch := make(chan string, 1)
	h.mu.Lock()
	h.waiters = append(h.waiters, ch)
	h.mu.Unlock()
	return ch
}

func (h *Hub) publish(ev string) {
	h.mu.Lock()
	ws := h.waiters
	h.waiters = nil
	h.mu.Unlock()
	for _, ch := range ws {
		ch <- ev
	}
}

func run(ctx context.Context) {
	h := &Hub{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case ev := <-h.wait():
			io.WriteString(w, ev)
		case <-time.After(25 * time.Second):
			w.WriteHeader(http.StatusNoContent)
		case <-r.Context().Done():
		}
	})}
	go srv.Serve(ln)
	go func() { <-ctx.Done(); srv.Close() }()
	for range 50 {
		go func() {
			for ctx.Err() == nil {
				resp, err := http.Get("http://" + ln.Addr().String() + "/events")
				if err != nil {
					time.Sleep(time.Second)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	for ctx.Err() == nil {
		time.Sleep(40 * time.Second)
		h.publish("deploy finished")
	}
}

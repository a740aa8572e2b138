// Package httpclientpoll polls a configuration endpoint every 2 s with
// one shared client, and posts a heartbeat every 30 s with another:
// transport read/write loops parked between requests. Healthy.
package httpclientpoll

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "httpclientpoll", Class: corpus.Healthy, Short: true,
		Doc: "HTTP clients polling every 2 s and posting every 30 s; idle transport connections",
		Run: run,
	})
}

func run(ctx context.Context) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /config", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"v":1}`) })
	mux.HandleFunc("POST /heartbeat", func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) })
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	go func() { <-ctx.Done(); srv.Close() }()
	base := "http://" + ln.Addr().String()
	poll := &http.Client{Timeout: 5 * time.Second}
	beat := &http.Client{Transport: &http.Transport{}, Timeout: 5 * time.Second}
	go func() {
		for ctx.Err() == nil {
			if resp, err := beat.Post(base+"/heartbeat", "text/plain", strings.NewReader("alive")); err == nil {
				resp.Body.Close()
			}
			time.Sleep(30 * time.Second)
		}
	}()
	for ctx.Err() == nil {
		if resp, err := poll.Get(base + "/config"); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		time.Sleep(2 * time.Second)
	}
}

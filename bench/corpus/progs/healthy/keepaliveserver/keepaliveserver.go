// Package keepaliveserver is an HTTP server with keep-alive clients that
// send a request every 15 s: between requests the server's connection
// goroutines wait in reads and the client transport's read and write
// loops wait on their channels. Healthy.
package keepaliveserver

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "keepaliveserver", Class: corpus.Healthy,
		Doc: "HTTP server with 20 keep-alive connections idle between requests every 15 s",
		Run: run,
	})
}

func run(ctx context.Context) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	}), IdleTimeout: 5 * time.Minute}
	go srv.Serve(ln)
	go func() { <-ctx.Done(); srv.Close() }()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 20, IdleConnTimeout: 5 * time.Minute}}
	for i := range 20 {
		go func() {
			time.Sleep(time.Duration(i) * 700 * time.Millisecond)
			for ctx.Err() == nil {
				resp, err := client.Get("http://" + ln.Addr().String() + "/status")
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				time.Sleep(15 * time.Second)
			}
		}()
	}
}

// Package fetchcancel is an HTTP handler that fetches a price from a
// backend in a goroutine and waits for it or for the request's context.
// When the client goes away first, the handler returns and the fetcher's
// unbuffered send has no receiver.
package fetchcancel

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
		Name: "fetchcancel", Class: corpus.ChannelContext, Leaks: 150, Short: true,
		Doc: "HTTP handler: the fetcher sends on an unbuffered channel after the request context ended; ~150 fetchers leak",
		Run: run,
	})
}

type price struct {
	sku   string
	cents int
}

func fetchPrice(sku string, out chan price) {
	time.Sleep(30 * time.Millisecond)   // the pricing backend
	out <- price{sku: sku, cents: 1999} // want
}

func handlePrice(w http.ResponseWriter, r *http.Request) {
	out := make(chan price)
	go fetchPrice(r.URL.Query().Get("sku"), out)
	select {
	case p := <-out:
		fmt.Fprintf(w, "%s: %d\n", p.sku, p.cents)
	case <-r.Context().Done():
		return
	}
}

func run(ctx context.Context) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(handlePrice)}
	go srv.Serve(ln)
	go func() { <-ctx.Done(); srv.Close() }()
	url := "http://" + ln.Addr().String() + "/price?sku="
	for i := 0; i < 600 && ctx.Err() == nil; i++ {
		// Impatient clients: one in four gives up before the backend answers.
		timeout := 200 * time.Millisecond
		if i%4 == 0 {
			timeout = 10 * time.Millisecond
		}
		rctx, cancel := context.WithTimeout(ctx, timeout)
		req, _ := http.NewRequestWithContext(rctx, http.MethodGet, url+fmt.Sprint(i), nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		cancel()
		time.Sleep(5 * time.Millisecond)
	}
}

// Package rpctimeout is an RPC client: each call starts a goroutine that
// does the round trip and sends the reply on an unbuffered channel, and
// the caller gives up after a timeout. A slow backend leaves one sender
// blocked for every timed-out call: hundreds.
package rpctimeout

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "rpctimeout", Class: corpus.Channel, Leaks: 300, Short: true,
		Doc: "RPC client: the reply goes to an unbuffered channel nobody reads after a timeout; ~300 senders leak",
		Run: run,
	})
}

var errTimeout = errors.New("rpc: timeout")

type Client struct {
	timeout time.Duration
	backend func(req string) string
}

func (c *Client) Call(req string) (string, error) {
	reply := make(chan string)
	go c.roundTrip(req, reply)
	select {
	case r := <-reply:
		return r, nil
	case <-time.After(c.timeout):
		return "", errTimeout
	}
}

func (c *Client) roundTrip(req string, reply chan string) {
	reply <- c.backend(req) // want
}

func run(ctx context.Context) {
	c := &Client{timeout: 20 * time.Millisecond, backend: func(req string) string {
		// Most calls are fast; one in ten waits on a slow replica.
		if rand.IntN(10) == 0 {
			time.Sleep(50 * time.Millisecond)
		}
		return "ok:" + req
	}}
	for i := 0; i < 3000 && ctx.Err() == nil; i++ {
		c.Call(fmt.Sprint("get/", i))
		time.Sleep(time.Millisecond)
	}
}

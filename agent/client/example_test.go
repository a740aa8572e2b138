package client_test

import (
	"context"
	"fmt"
	"log"

	"github.com/asyncmon/asyncmon/agent"
	"github.com/asyncmon/asyncmon/agent/client"
	"github.com/asyncmon/asyncmon/model"
)

// Read an agent's latest snapshot, then follow its stream.
func ExampleClient() {
	a, err := agent.Start(context.Background(), agent.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		log.Fatal(err)
	}
	defer a.Close()

	c, err := client.New(a.Addr()) // "host:port" or a base URL
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := c.Snapshot(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("goroutines counted:", s.Goroutines.Total > 0)

	// Stream returns nil once ctx is done, or an error when the agent
	// goes away, so a caller can reconnect.
	err = c.Stream(ctx, func(s *model.Snapshot) error {
		fmt.Println("streamed a snapshot:", s.Seq > 0)
		cancel()
		return nil
	})
	fmt.Println("stream ended:", err)
	// Output:
	// goroutines counted: true
	// streamed a snapshot: true
	// stream ended: <nil>
}

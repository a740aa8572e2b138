package tui_test

import (
	"context"
	"log"

	"github.com/asyncmon/asyncmon/agent/client"
	"github.com/asyncmon/asyncmon/tui"
	"github.com/asyncmon/asyncmon/tui/clientsource"
)

// The UI over a live agent, as `asyncmon attach 127.0.0.1:7071` runs it:
// it stays until the user presses q, reconnecting whenever the agent goes
// away.
func ExampleRun() {
	c, err := client.New("127.0.0.1:7071")
	if err != nil {
		log.Fatal(err)
	}
	if err := tui.Run(context.Background(), tui.Options{Source: clientsource.New(c)}); err != nil {
		log.Fatal(err)
	}
}

package agent_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/asyncmon/asyncmon/agent"
)

// Start the agent with its defaults: loopback only, 1 s interval, ten
// minutes of history, silent. Close stops it and joins its goroutines.
func ExampleStart() {
	a, err := agent.Start(context.Background(), agent.Options{
		Addr: "127.0.0.1:0", // a free port here; the zero value is 127.0.0.1:7071
	})
	if err != nil {
		log.Fatal(err)
	}
	defer a.Close()

	s := a.Latest() // never nil once Start returns
	fmt.Println(s.Seq >= 1, s.Goroutines.Total > 0)
	// Output: true true
}

// Serve the agent's API from the service's own server instead of a
// listener of its own.
func ExampleAgent_Handler() {
	a, err := agent.Start(context.Background(), agent.Options{NoListen: true})
	if err != nil {
		log.Fatal(err)
	}
	defer a.Close()

	mux := http.NewServeMux()
	mux.Handle("/asyncmon/", http.StripPrefix("/asyncmon", a.Handler()))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/asyncmon/healthz")
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output: 200
}

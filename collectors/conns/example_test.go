package conns_test

import (
	"context"
	"database/sql/driver"
	"fmt"
	"net"
	"net/http"

	"github.com/asyncmon/asyncmon/collectors/conns"
	"github.com/asyncmon/asyncmon/model"
)

// Track a server's connections, a client's dials and response bodies, and
// a database pool; then read what is open.
func ExampleTracker() {
	tr := conns.NewTracker(conns.Options{})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := &http.Server{Handler: http.NotFoundHandler()}
	go srv.Serve(tr.WrapListener(ln)) // server side
	defer srv.Close()

	client := &http.Client{Transport: tr.HTTPTransport(nil)} // client side
	defer client.CloseIdleConnections()
	resp, err := client.Get("http://" + ln.Addr().String())
	if err != nil {
		panic(err)
	}
	// Until this Close (or a read to the end), the body is open; dropped
	// without either, it is reported as leaked, with this file's line.
	defer resp.Body.Close()

	var s model.Snapshot
	if err := tr.Collect(context.Background(), &s); err != nil {
		panic(err)
	}
	fmt.Println("open bodies:", s.Connections.OpenByKind[model.ConnHTTPBody])
	// Output: open bodies: 1
}

// Open a database/sql pool whose result sets and transactions are tracked
// with the line that opened them.
func ExampleTracker_OpenDB() {
	tr := conns.NewTracker(conns.Options{})
	var connector driver.Connector // e.g. pgx's stdlib.GetConnector(config)
	if connector == nil {
		return
	}
	db := tr.OpenDB("orders", connector)
	defer db.Close()
	db.SetMaxOpenConns(10)
}

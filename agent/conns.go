package agent

import (
	"database/sql"
	"database/sql/driver"
	"net"
	"net/http"

	"github.com/asyncmon/asyncmon/collectors/conns"
)

// initConns sets up the connection tracker: the one given in Options, or
// the agent's own, collected like the built-in collectors.
func (a *Agent) initConns(opts Options) {
	a.conns = opts.Conns
	if a.conns == nil {
		a.conns = conns.NewTracker(conns.Options{Logger: opts.Logger})
	}
	a.addBuiltin(a.conns)
}

// Conns returns the agent's connection tracker, for the wrappers that have
// no shortcut on the Agent (dialers, connectors, already open conns).
func (a *Agent) Conns() *conns.Tracker { return a.conns }

// WrapListener returns l with every accepted connection tracked:
//
//	srv.Serve(a.WrapListener(ln))
func (a *Agent) WrapListener(l net.Listener) net.Listener { return a.conns.WrapListener(l) }

// HTTPTransport returns a clone of base (nil: http.DefaultTransport) whose
// connections and response bodies are tracked; an unclosed body that
// becomes unreachable is reported with the line that made the request:
//
//	client := &http.Client{Transport: a.HTTPTransport(nil)}
func (a *Agent) HTTPTransport(base *http.Transport) http.RoundTripper {
	return a.conns.HTTPTransport(base)
}

// WrapRoundTripper returns rt with its response bodies tracked, for
// clients whose transport is not an *http.Transport.
func (a *Agent) WrapRoundTripper(rt http.RoundTripper) http.RoundTripper {
	return a.conns.WrapRoundTripper(rt)
}

// TrackDB reports db's pool statistics under name:
//
//	a.TrackDB("orders", db)
//
// To also know which lines hold the pool's connections, open the pool
// with [Agent.OpenDB] instead.
func (a *Agent) TrackDB(name string, db *sql.DB) { a.conns.TrackDB(name, db) }

// OpenDB opens a database/sql pool over connector with its connections,
// result sets and transactions tracked and its statistics reported under
// name:
//
//	db := a.OpenDB("orders", connector)
//
// For a driver known by name and DSN, pass
// a.Conns().WrapDriver(name, drv, dsn) as the connector.
func (a *Agent) OpenDB(name string, connector driver.Connector) *sql.DB {
	return a.conns.OpenDB(name, connector)
}

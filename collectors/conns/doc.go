// Package conns tracks connections, HTTP response bodies and database/sql
// rows that a program opens, to find the ones it leaks. A [Tracker] wraps
// listeners, dialers, connections, HTTP transports and database/sql
// drivers; each wrapper records where it was opened, and a cleanup on the
// wrapper reports the ones dropped without Close. The Tracker is a
// [model.Collector] (name "connections") that fills the snapshot's
// connections and pool statistics. It starts no goroutines.
package conns

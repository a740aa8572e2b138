// Package demo is a small but realistic HTTP service with the asyncmon
// agent embedded, used by "asyncmon demo" and by tests.
//
// The service answers /api/quote by handing the request to a bounded worker
// pool; a worker looks the price up in a cache behind a mutex and, on a
// miss, calls a downstream price service over loopback with a timeout. A
// built-in load generator keeps it busy, a background janitor evicts stale
// cache entries, and the idle workers park on a channel: the shape of many
// real services, and the background that a healthy run must not flag.
//
// # Scenarios
//
// Fault scenarios add a real bug to the running service (see Scenarios).
// "healthy" adds none; "all" adds every one.
package demo

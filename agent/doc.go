// Package agent is asyncmon embedded in a Go service: it collects runtime
// diagnostics every interval, keeps a short history, and serves it over
// HTTP as JSON, Server-Sent Events, Prometheus metrics and pprof.
//
// # Embedding
//
// Two lines start it with safe defaults (loopback only, 1 s interval, ten
// minutes of history, silent):
//
//	a, err := agent.Start(ctx, agent.Options{})
//	defer a.Close()
//
// To serve the API from the service's own server instead of a separate
// listener, set Options.NoListen and mount [Agent.Handler].
//
// # HTTP API
//
//	GET /metrics                 Prometheus text exposition
//	GET /api/v1/snapshot         the latest model.Snapshot
//	GET /api/v1/history?since=   snapshots since an RFC 3339 time or a duration ago
//	GET /api/v1/stream           Server-Sent Events, one snapshot per collection
//	GET /api/v1/goroutines       the goroutine group table, sorted and filtered
//	GET /api/v1/connections      tracked connections, leaks and pools
//	GET /api/v1/findings         what the detectors found
//	GET /api/v1/captures[/{id}]  evidence saved when findings fired
//	GET /debug/pprof/...         net/http/pprof profiles
//	GET /debug/fgprof            wall-clock profile
//	GET /healthz                 liveness
//
// Unknown paths answer 404, other methods than GET 405, and bad parameters
// 400, all with a JSON body {"error": "..."}. docs/api.md has the
// parameters of each endpoint.
//
// # Safety
//
// The agent never panics the host and never calls os.Exit: a panicking
// collector is recovered, counted and reported in the snapshot while the
// others go on. It prints nothing unless Options.Logger is set. Its memory
// is bounded by the history length (see Options.History), and Close stops
// and joins every goroutine it started.
package agent

// Package collectors holds asyncmon's runtime-level data sources, one file
// per source: scheduler latency, runtime metrics, the process, block and
// mutex profiles, and HTTP requests in flight. Each collector is a
// [model.Collector]: the agent calls Collect once per interval from a
// single goroutine, and the collector fills its section of the
// [model.Snapshot].
//
// # Sub-packages
//
// Sources big enough to be packages of their own live below this one:
// collectors/dump parses goroutine dumps and contention profiles,
// collectors/goroutines groups goroutines and collects them live, and
// collectors/conns tracks connections to find leaked ones.
//
// # Cost
//
// Collectors run inside the host process, so every one states its cost.
// The runtime collectors read runtime/metrics, which takes no stop-the-world
// pause and allocates nothing once their sample slices exist.
//
// # Lifecycle
//
// A collector that starts goroutines (the scheduler's timer probe) does so
// in its constructor and stops and joins them in Close. Collectors that
// need no goroutines have no Close.
package collectors

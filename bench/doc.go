// Package bench holds asyncmon's benchmarks against peer libraries and
// its cost benchmarks that need many goroutines. It is its own module so
// that the peers (DataDog/gostackparse, maruel/panicparse) stay out of
// asyncmon's go.mod. Results are recorded in ../docs/perf.md.
package bench

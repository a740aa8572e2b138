// Package goroutines groups goroutines and collects them live. A
// [Grouper] folds goroutines (from a dump parsed by package dump, or the
// records of the goroutine profile) into groups keyed by creation site,
// start function, wait reason and top frames; [Collector] is the
// [model.Collector] that keeps the agent's group table current within a
// CPU budget, and [WriteDump] writes the process's own goroutine dump for
// evidence captures.
package goroutines

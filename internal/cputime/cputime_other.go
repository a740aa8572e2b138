//go:build !linux

package cputime

import "time"

// PerThread says whether Cost measures the calling thread's CPU time (so
// the costs of work run on other goroutines add up) or wall time.
const PerThread = false

// Cost runs fn and returns its wall time: without a per-thread CPU
// clock, wall time stands in for the collection's cost.
func Cost(fn func()) time.Duration {
	start := time.Now()
	fn()
	return time.Since(start)
}

// Thread reports that this platform has no per-thread CPU clock.
func Thread() (time.Duration, bool) { return 0, false }

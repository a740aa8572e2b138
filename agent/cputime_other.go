//go:build !linux

package agent

import "time"

// cycleCost runs fn and returns its wall time: without a per-thread CPU
// clock, wall time stands in for the collection's cost.
func cycleCost(fn func()) time.Duration {
	start := time.Now()
	fn()
	return time.Since(start)
}

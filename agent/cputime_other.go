//go:build !linux

package agent

import "time"

// perThreadCPU is false: cycleCost is wall time, so the cost of the whole
// cycle already covers the collectors it waited for.
const perThreadCPU = false

// cycleCost runs fn and returns its wall time: without a per-thread CPU
// clock, wall time stands in for the collection's cost.
func cycleCost(fn func()) time.Duration {
	start := time.Now()
	fn()
	return time.Since(start)
}

package agent

import (
	"runtime"
	"syscall"
	"time"
)

// perThreadCPU says cycleCost measures a thread's CPU time, so the costs
// of collectors run on their own goroutines add up.
const perThreadCPU = true

// rusageThread is RUSAGE_THREAD, which the syscall package does not name.
const rusageThread = 1

// cycleCost runs fn with the calling goroutine locked to its thread and
// returns the CPU time that thread used: the collection's own cost, which
// unlike wall time does not grow when the process is starved of CPU.
// Work a collector hands to other goroutines is not counted.
func cycleCost(fn func()) time.Duration {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before, ok1 := threadCPU()
	start := time.Now()
	fn()
	after, ok2 := threadCPU()
	if !ok1 || !ok2 {
		return time.Since(start)
	}
	return after - before
}

func threadCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}

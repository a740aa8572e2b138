// Package cputime measures the CPU time of the calling thread, which is
// what the agent's collection budget counts: unlike wall time it does not
// grow when the process is starved of CPU.
package cputime

import (
	"runtime"
	"syscall"
	"time"
)

// PerThread says whether Cost measures the calling thread's CPU time (so
// the costs of work run on other goroutines add up) or wall time.
const PerThread = true

// rusageThread is RUSAGE_THREAD, which the syscall package does not name.
const rusageThread = 1

// Cost runs fn with the calling goroutine locked to its thread and
// returns the CPU time that thread used: the collection's own cost, which
// unlike wall time does not grow when the process is starved of CPU.
// Work a collector hands to other goroutines is not counted.
func Cost(fn func()) time.Duration {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before, ok1 := Thread()
	start := time.Now()
	fn()
	after, ok2 := Thread()
	if !ok1 || !ok2 {
		return time.Since(start)
	}
	return after - before
}

// Thread returns the CPU time (user and system) the calling thread has
// used, and whether the platform tells.
func Thread() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}

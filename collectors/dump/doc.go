// Package dump reads goroutine dumps and contention profiles: the text
// forms the runtime and net/http/pprof print. [Parse] takes every form
// users have (pprof's goroutine profile at debug=1 and debug=2, a panic
// or SIGQUIT traceback, with or without a log prefix); [ParseContention]
// takes the block and mutex profiles at debug=1. The helpers that read a
// parsed stack ([InferWaitReason], [StartFrame], [TopFrames]) live here
// too, so the live collectors and offline analysis read stacks alike.
//
// The parsers never panic: malformed lines are kept in [Dump.Errors] and
// the rest of the input is still read. The package starts no goroutines.
package dump

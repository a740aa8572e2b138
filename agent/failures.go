package agent

import "github.com/asyncmon/asyncmon/collectors"

// requestsOptions returns the request middleware's options: the caller's,
// recording handler panics in the agent's panic recorder.
func (a *Agent) requestsOptions(opts Options) collectors.RequestsOptions {
	ro := opts.Requests
	if ro.Panics == nil {
		ro.Panics = a.panics
	}
	return ro
}

// RecordPanic, deferred at the top of a goroutine the service starts,
// counts a panic of that goroutine at the line that panicked, then panics
// again with the same value:
//
//	go func() {
//		defer a.RecordPanic()
//		work()
//	}()
//
// It re-panics rather than recovering, so the program behaves exactly as
// without asyncmon: an unrecovered panic still crashes the process (and
// the crash report is kept, see [CrashOptions]), while a panic that a
// deferred recover further up catches is counted and goes on. The panic
// detector reports the sites; the metric asyncmon_panics_total counts
// them. It must be deferred directly (recover works only there). A nil
// Agent records nothing and re-panics too.
func (a *Agent) RecordPanic() {
	v := recover()
	if v == nil {
		return
	}
	if a != nil {
		a.panics.Record(v)
	}
	panic(v)
}

// Package detectors turns a window of snapshots into findings that say, in
// plain words, what is wrong with a Go process, where, since when and what
// to do next.
//
// # Detectors
//
// A detector is a [model.Detector]: a pure function of a [model.Window] that
// returns the conditions that hold now, with [model.Finding.State] left
// empty. Detectors keep no state between passes, start no goroutines and
// never modify the window. Every threshold lives in the detector's Config,
// whose zero value means "the documented defaults":
//
//   - [Starvation] (name "starvation"): sustained scheduler latency or timer
//     lag, with a verdict on the cause (CPU saturation, GC, stop-the-world
//     pauses, cgroup throttling, blocking syscalls or cgo, or host contention).
//   - [Leak] (name "goroutine-leak"): a goroutine group that keeps growing,
//     or that stays parked on a channel, select or sync.Cond with the same
//     goroutines and no progress.
//   - [Stall] (name "deadlock"): groups blocked on locks, wait groups or
//     channels with the same goroutines and no progress, lock cycles, and
//     whole-process quiescence.
//   - [StuckRequests] (name "stuck-request"): HTTP requests in flight for
//     longer than a threshold, with the handler's stack.
//   - [connleak.Detector] (name "conn-leak", package detectors/connleak): connections, response bodies and SQL
//     result sets dropped without Close (definite leaks, from the
//     connection tracker), exhausted database/sql pools, resources held
//     idle, growing open counts and file descriptors near their limit.
//   - the failure detectors (package detectors/failures): panics ("panic"),
//     outbound calls without a deadline ("no-deadline"), requests piling up
//     without shedding ("overload") and the crash of an earlier run
//     ("crash").
//
// # Lifecycle
//
// Detectors only say what holds now. Package findings
// ([github.com/asyncmon/asyncmon/findings]) runs them after every
// collection and keeps their findings' lifecycle (pending, firing,
// resolved, cooldown); a detector suggests its own [findings.Rule] by
// implementing [findings.Ruler].
//
// # Writing a detector
//
// Implement [model.Detector]; set Finding.Detector to Name() and give
// Finding.ID a value that is stable for one subject (use
// [model.FindingID]). Name the subject's file:line where one exists ([model.Frame.Site]). Put the
// numbers the decision was made on in Evidence.Numbers, keyed with their
// unit. Optionally implement [findings.Ruler] to suggest a lifecycle rule.
package detectors

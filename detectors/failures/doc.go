// Package failures holds the detectors of failures that have already
// happened or are bound to: panics (name "panic"), outbound calls without
// a deadline ("no-deadline"), requests piling up without shedding
// ("overload") and the crash of an earlier run ("crash"). They are among
// the default detectors (see package detectors,
// [github.com/asyncmon/asyncmon/detectors.Defaults]); they live in a
// package of their own for its size. Like every detector they are pure
// functions of a window of snapshots, with thresholds in a Config whose
// zero value means the documented defaults.
package failures

// Package findings keeps the lifecycle of the findings that detectors
// report: it runs the detectors over a window after every collection,
// matches their reports across passes, and decides when a finding fires,
// resolves and may fire again. It is stateful, which is why it is not part
// of package detectors, whose detectors are pure functions of a window.
//
// # Lifecycle
//
// The [Engine] runs detectors after every collection and keeps the
// lifecycle of their findings, matched across passes by [model.Finding.ID]:
//
//	(new) ──held for Rule.For──> firing ──clear for Rule.Clear──> resolved
//	  │                            ▲
//	  └── pending ─────────────────┘   (not before Rule.Cooldown after the
//	                                    last resolution of the same ID)
//
// A pending finding whose condition stops holding is dropped: detectors
// smooth their own input over the window, so one quiet pass means the
// condition was not sustained. A firing finding stays firing until its
// condition has been absent for Rule.Clear (hysteresis, so it does not
// flap), and a finding that resolved cannot fire again before Rule.Cooldown
// has passed. Resolved findings are kept for a while, bounded in number.
//
// What is learnt after a finding fired (the runtime confirming a leak, a
// CPU profile naming the hot code) is added with [Engine.Annotate] and
// [Engine.Amend], and survives the detector's later reports.
//
// Users can silence a detector or raise the level of its findings with a
// [Rule] in [Config.Rules]. Each detector suggests its own rule by
// implementing [Ruler]; the user's rule overrides it field by field.
package findings

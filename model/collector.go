package model

import "context"

// Collector fills its section of a Snapshot. Collect is called from one
// goroutine at a time, once per collection, and must return promptly when
// ctx is done. An error is recorded in the snapshot's collector status and
// the other collectors go on; Collect may still have filled part of s.
//
// # Order
//
// The collectors of one collection run one after another, in a fixed
// order, on the same snapshot: a collector sees the sections that the
// collectors before it filled, and may read them (a section that is still
// empty means its collector has not run or failed). The agent runs the
// scheduler, runtime, goroutine group, blocking and connection collectors
// in that order, then Options.Collectors, then its request, panic and
// crash collectors. The one dependency among the built-in ones: the
// connection tracker (collectors/conns) reads the goroutine groups to name
// the Transport read-loop group holding each open response body, so it
// runs after the goroutine group collector.
type Collector interface {
	Name() string
	Collect(ctx context.Context, s *Snapshot) error
}

// Detector looks at a window of snapshots and reports the conditions that
// hold now. It is a pure function of the window: the lifecycle (pending,
// firing, resolved) is kept by the caller, which matches findings across
// passes by ID. Detect must not keep or modify the window.
type Detector interface {
	Name() string
	Detect(w Window) []Finding
}

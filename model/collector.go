package model

import "context"

// Collector fills its section of a Snapshot. Collect is called from one
// goroutine at a time, once per collection, and must return promptly when
// ctx is done. An error is recorded in the snapshot's collector status and
// the other collectors go on; Collect may still have filled part of s.
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

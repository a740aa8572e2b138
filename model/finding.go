package model

import "time"

// Level is how bad a finding is.
type Level string

// Levels, in increasing order of severity.
const (
	LevelInfo     Level = "info"
	LevelWarning  Level = "warning"
	LevelCritical Level = "critical"
)

// Rank orders levels: info 1, warning 2, critical 3, anything else 0.
func (l Level) Rank() int {
	switch l {
	case LevelInfo:
		return 1
	case LevelWarning:
		return 2
	case LevelCritical:
		return 3
	}
	return 0
}

// State is where a finding is in its lifecycle.
type State string

// States. A condition first seen is pending; it fires once it has held
// for the detector's "for" duration, and resolves once it has been clear
// for the detector's hysteresis duration.
const (
	StatePending  State = "pending"
	StateFiring   State = "firing"
	StateResolved State = "resolved"
)

// FindingID returns the conventional ID of a finding: the detector name and
// the subject, so one subject has one finding per detector.
func FindingID(detector, subject string) string {
	return detector + ":" + subject
}

// Finding is what a detector says is wrong, in plain words, with evidence.
type Finding struct {
	// ID is stable for one detector and subject, so a finding keeps its
	// identity across passes.
	ID       string `json:"id"`
	Detector string `json:"detector"`
	Level    Level  `json:"level"`
	State    State  `json:"state"`
	// Title is one line; Summary says what, where, since when and what to
	// do next.
	Title   string `json:"title"`
	Summary string `json:"summary"`
	// Subject names what the finding is about: a goroutine group's site,
	// a connection's open site ("file:line"), or "process".
	Subject string `json:"subject"`
	// Cause is the detector's verdict on the cause, a short stable token
	// (e.g. "cpu-saturated", "gc-bound", "lock-cycle"), where it gives one.
	Cause     string    `json:"cause,omitempty"`
	Evidence  Evidence  `json:"evidence"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// ResolvedAt is set once State is resolved.
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
}

// Evidence backs a finding.
type Evidence struct {
	// Numbers are the measurements the decision was made on, keyed with
	// their unit (e.g. "sched_latency_p99_seconds").
	Numbers map[string]float64 `json:"numbers,omitempty"`
	// Stacks are sample stacks, each with a label saying whose it is.
	Stacks []Stack `json:"stacks,omitempty"`
	// Notes are further facts in plain words (e.g. the hottest functions).
	Notes []string `json:"notes,omitempty"`
	// Captures are IDs of evidence captures, downloadable from the agent.
	Captures []string `json:"captures,omitempty"`
}

// Stack is a labelled stack trace.
type Stack struct {
	Label  string  `json:"label"`
	Frames []Frame `json:"frames"`
}

// Capture is one saved piece of evidence (a profile or a dump).
type Capture struct {
	ID      string    `json:"id"`
	Kind    string    `json:"kind"` // goroutine, cpu, block, mutex, trace, heap
	Time    time.Time `json:"time"`
	Bytes   int64     `json:"bytes"`
	Finding string    `json:"finding,omitempty"`
	// Format is "pprof" (gzipped protobuf), "text" or "trace".
	Format string `json:"format"`
}

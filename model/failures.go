package model

import "time"

// Panic kinds of [PanicSite].
const (
	// PanicHandler is a panic in an HTTP handler wrapped by the agent's
	// middleware.
	PanicHandler = "handler"
	// PanicGoroutine is a panic recorded by the agent's deferred helper
	// in a goroutine the service started.
	PanicGoroutine = "goroutine"
)

// PanicSite counts the panics recorded at one place: the user's frame
// that panicked (the innermost frame of the user's code below the
// runtime's panic machinery).
type PanicSite struct {
	// Kind is PanicHandler or PanicGoroutine.
	Kind string `json:"kind"`
	// Site is the user's frame that panicked.
	Site Frame `json:"site"`
	// Route is the request's route pattern (or method and path) of the
	// latest handler panic; empty for goroutine panics.
	Route string `json:"route,omitempty"`
	// Value is the latest panic value, formatted and cut to 200 bytes.
	Value string `json:"value"`
	// Count counts the panics at this site since the agent started.
	Count int64 `json:"count"`
	// Last is when the latest one happened.
	Last time.Time `json:"last"`
	// Stack is the latest panicking goroutine's stack, innermost first,
	// from the panicking frame down.
	Stack []Frame `json:"stack,omitempty"`
}

// Outbound call kinds of [CallSite].
const (
	CallHTTP = "http" // an HTTP request through a tracked transport
	CallSQL  = "sql"  // a database/sql call through a tracked connector
)

// CallSite counts outbound calls made without a deadline from one place
// of the user's code.
type CallSite struct {
	// Kind is CallHTTP or CallSQL.
	Kind string `json:"kind"`
	// Site is the user's frame that made the call.
	Site Frame `json:"site"`
	// Stack is the sampled call stack, innermost first.
	Stack []Frame `json:"stack,omitempty"`
	// Target is the host (HTTP) or the pool name (SQL) of the latest
	// such call.
	Target string `json:"target,omitempty"`
	// Count counts the calls without a deadline attributed to the site
	// since the tracker started. Stacks are walked for a sample of the
	// calls; every call is counted, and attributed to the site its
	// target's latest sample named.
	Count int64 `json:"count"`
	// Last is when the latest sampled call was made.
	Last time.Time `json:"last"`
}

// RequestLoad is the request middleware's account of the load: requests
// that arrived and finished, and how many are in flight now.
type RequestLoad struct {
	// InFlight is the number of requests being served now.
	InFlight int `json:"in_flight"`
	// StartedTotal and CompletedTotal count requests since the agent
	// started: arrived, and finished (whatever the outcome, a panic
	// included).
	StartedTotal   uint64 `json:"started_total"`
	CompletedTotal uint64 `json:"completed_total"`
	// OldestAgeSeconds is the age of the oldest request in flight.
	OldestAgeSeconds float64 `json:"oldest_age_seconds"`
}

// Crash is the report of a crash of an earlier run of the program, kept
// through the runtime's crash output (runtime/debug.SetCrashOutput) or
// read from a pasted panic or fatal error output.
type Crash struct {
	// Time is when the crash happened (when its report was last written).
	Time time.Time `json:"time,omitzero"`
	// Kind is "panic" for an unrecovered panic, "fatal error" for a
	// runtime fatal error (concurrent map writes, all goroutines are
	// asleep, out of memory...), or "fatal" for the runtime's other
	// fatal messages.
	Kind string `json:"kind"`
	// Message is the panic value or the fatal error, as the runtime
	// printed it (e.g. "concurrent map writes", "runtime error: index
	// out of range [3] with length 3").
	Message string `json:"message"`
	// GoroutineID is the goroutine that crashed (the first one the
	// runtime printed), 0 if none was printed.
	GoroutineID int64 `json:"goroutine_id,omitempty"`
	// Site is the user's frame in the crashing goroutine's stack: where
	// the panic or the fatal error happened.
	Site Frame `json:"site,omitzero"`
	// Stack is the crashing goroutine's stack, innermost first.
	Stack []Frame `json:"stack,omitempty"`
	// Goroutines is the number of goroutines the report printed.
	Goroutines int `json:"goroutines,omitempty"`
	// Path is the file the report was read from, if any.
	Path string `json:"path,omitempty"`
	// Capture is the ID of the capture holding the report, if any.
	Capture string `json:"capture,omitempty"`
}

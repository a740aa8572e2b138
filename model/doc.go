// Package model is the one data model of asyncmon.
//
// Collectors fill a [Snapshot], detectors read a [Window] of snapshots and
// emit [Finding]s, the agent serves both as JSON, and the terminal UI decodes
// the very same types. There is no second set of wire structs.
//
// # Units
//
// Durations that cross the wire are float64 seconds and their JSON names end
// in _seconds; byte counts end in _bytes. Instants are [time.Time] (RFC 3339
// in JSON). Counters named ...Total are cumulative since the process started;
// everything else is a gauge or a value over the last collection interval.
//
// # Rules
//
// The package imports the standard library only and starts no goroutines.
// Values are plain data: a Snapshot handed to a detector or to the HTTP layer
// is never written again, so readers need no locks.
package model

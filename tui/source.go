package tui

import (
	"context"
	"time"

	"github.com/asyncmon/asyncmon/model"
)

// Source delivers data to the UI. Implementations: clientsource.New (package tui/clientsource) for a
// live agent, package tui/recording's Replay for a recording, and any type that fits,
// such as cmd/asyncmon's pprof-only source.
type Source interface {
	// Target names what the source reads (an address, a file) for the
	// status line.
	Target() string
	// Run calls emit with updates, one at a time from the goroutine that
	// called Run, until ctx is done or the source has nothing more to say.
	// emit may block while the UI catches up. Run returns nil when ctx is
	// done; network errors are reported through Status updates, never by
	// returning.
	Run(ctx context.Context, emit func(Update)) error
}

// Player is implemented by sources that play recorded data, such as the
// replay source. The UI routes pause and step keys to it.
//
// Its methods are safe to call from any goroutine.
type Player interface {
	// SetPaused stops or resumes playback.
	SetPaused(paused bool)
	// Step delivers the next recorded snapshot while paused.
	Step()
	// Paused reports whether playback is paused.
	Paused() bool
}

// CaptureSaver is implemented by sources that can download an evidence
// capture from the target.
type CaptureSaver interface {
	// SaveCapture downloads capture id into dir and returns the path of
	// the written file.
	SaveCapture(ctx context.Context, id, dir string) (string, error)
}

// Update is one piece of news from a [Source]. Zero fields mean "no news".
type Update struct {
	// Snapshots are new snapshots, oldest first: a history backfill right
	// after connecting, then one per collection.
	Snapshots []*model.Snapshot
	// Findings replaces the finding list when HasFindings is true.
	Findings    []model.Finding
	HasFindings bool
	// Status, when non-nil, replaces the connection status.
	Status *Status
}

// ConnState is the state of the link between the UI and its target.
type ConnState int

// Connection states.
const (
	// StateConnecting is before the first successful contact.
	StateConnecting ConnState = iota
	// StateLive means data is arriving.
	StateLive
	// StateDisconnected means the target went away; the source retries.
	StateDisconnected
	// StateEnded means a recording has been played to its end.
	StateEnded
)

// Status describes the source's link to its target.
type Status struct {
	State ConnState
	// Err is the last error, in plain words, when disconnected.
	Err string
	// RetryAt is when the next attempt is due while disconnected.
	RetryAt time.Time
	// Mode names the kind of target: "agent", "pprof only" or "replay".
	Mode string
	// Note is a further one-line remark for the status line (e.g. the
	// number of unreadable lines skipped in a recording).
	Note string
	// Unavailable maps the views this source cannot feed to the reason,
	// in plain words.
	Unavailable map[View]string
}

// View names one of the UI's views.
type View int

// The views, in tab order; keys 1–5 select them.
const (
	ViewOverview View = iota
	ViewGoroutines
	ViewBlocking
	ViewConnections
	ViewFindings
	numViews
)

// String returns the view's title.
func (v View) String() string {
	switch v {
	case ViewOverview:
		return "Overview"
	case ViewGoroutines:
		return "Goroutines"
	case ViewBlocking:
		return "Blocking"
	case ViewConnections:
		return "Connections"
	case ViewFindings:
		return "Findings"
	}
	return "?"
}

// mnemonic is the letter key that selects v besides its digit.
func (v View) mnemonic() rune {
	switch v {
	case ViewOverview:
		return 'o'
	case ViewGoroutines:
		return 'g'
	case ViewBlocking:
		return 'b'
	case ViewConnections:
		return 'c'
	case ViewFindings:
		return 'f'
	}
	return 0
}

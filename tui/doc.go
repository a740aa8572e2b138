// Package tui is asyncmon's terminal user interface: the screens that
// `asyncmon attach`, `asyncmon replay` and `asyncmon demo` show.
//
// # Shape
//
// [Run] owns a tview application and one goroutine that runs a [Source].
// A Source delivers [Update]s (snapshots, findings, connection state); the
// goroutine hands each one to the UI goroutine through
// Application.QueueUpdateDraw, where it is folded into the view state and the
// visible view is redrawn. Views never fetch data: they are small
// constructors returning primitives, plus a render method that reads a
// frozen [frame] of data.
//
// Three sources exist: clientsource.New (package tui/clientsource) reads a live asyncmon agent through
// agent/client (and reconnects with backoff when it goes away),
// package tui/recording plays recordings made with its Recorder,
// and cmd/asyncmon builds a third one for targets that serve only
// net/http/pprof. [Choose] asks which of several agents to attach to.
//
// # Keys
//
// 1–5 (or o g b c f) select the Overview, Goroutines, Blocking, Connections
// and Findings views; ? shows help; space pauses or resumes; q quits.
//
// # Honesty
//
// The status line always says where the data comes from, how old the newest
// piece is (measured on this machine from when it arrived, so clock skew
// cannot hide staleness), whether the display is paused, and
// "disconnected — retrying" while the agent is away. A view the source cannot
// feed says so instead of showing an empty table.
package tui

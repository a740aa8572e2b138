package tui

import (
	"time"

	"github.com/asyncmon/asyncmon/model"
)

// History bounds. The overview shows the last historySpan; maxHistory caps
// the number of kept snapshots whatever the collection interval, so memory
// stays flat over hours of attach or replay (3600 is one snapshot every
// 1/6 s over ten minutes, faster than any agent collects).
const (
	historySpan = 10 * time.Minute
	maxHistory  = 3600
)

// state is everything the UI knows. It lives on the UI goroutine: apply and
// every read happen inside QueueUpdate(Draw) or event handlers.
type state struct {
	// history is oldest first and bounded by historySpan and maxHistory.
	history  []*model.Snapshot
	findings []model.Finding
	status   Status
	// arrived is the local time the newest snapshot arrived; the status
	// line measures the age of data from it, so a skewed clock on the
	// target cannot make stale data look fresh.
	arrived time.Time
	// received counts snapshots received since the UI started.
	received uint64
}

// apply folds u into the state. now is the local arrival time.
func (s *state) apply(u Update, now time.Time) {
	if u.Status != nil {
		s.status = *u.Status
	}
	if u.HasFindings {
		s.findings = u.Findings
	}
	for _, snap := range u.Snapshots {
		s.add(snap, now)
	}
}

func (s *state) add(snap *model.Snapshot, now time.Time) {
	if snap == nil {
		return
	}
	if last := s.latest(); last != nil && !snap.Time.After(last.Time) &&
		snap.Process.StartTime.Equal(last.Process.StartTime) {
		// Already seen: a history backfill after a reconnect overlaps
		// what arrived before the disconnect.
		return
	}
	// Only the two newest snapshots keep their tables (groups,
	// connections, blocking sites): views read tables from the newest and
	// deltas from the one before, while the overview needs only the
	// scalars of older ones. Dropping the tables keeps memory flat however
	// large the goroutine table is.
	if n := len(s.history); n >= 2 {
		s.history[n-2] = scalarsOnly(s.history[n-2])
	}
	s.history = append(s.history, snap)
	s.received++
	s.arrived = now
	cut := 0
	oldest := snap.Time.Add(-historySpan)
	for cut < len(s.history)-1 && (s.history[cut].Time.Before(oldest) || len(s.history)-cut > maxHistory) {
		cut++
	}
	if cut > 0 {
		// Copy down rather than reslice so the backing array never grows
		// past maxHistory+1 and old snapshots become garbage.
		n := copy(s.history, s.history[cut:])
		clear(s.history[n:])
		s.history = s.history[:n]
	}
}

// latest returns the newest snapshot or nil.
func (s *state) latest() *model.Snapshot {
	if len(s.history) == 0 {
		return nil
	}
	return s.history[len(s.history)-1]
}

// frame is what the views render: a consistent, read-only view of the
// state. While the display is paused the views keep rendering the frame
// taken at the pause.
type frame struct {
	history  []*model.Snapshot
	findings []model.Finding
	status   Status
	// arrived is when the newest snapshot of the frame arrived.
	arrived time.Time
}

// snapshot copies the parts of the state that views read.
func (s *state) frame() frame {
	return frame{
		history:  append([]*model.Snapshot(nil), s.history...),
		findings: s.findings,
		status:   s.status,
		arrived:  s.arrived,
	}
}

// latest returns the frame's newest snapshot or nil.
func (f frame) latest() *model.Snapshot {
	if len(f.history) == 0 {
		return nil
	}
	return f.history[len(f.history)-1]
}

// scalarsOnly returns a shallow copy of s without its tables.
func scalarsOnly(s *model.Snapshot) *model.Snapshot {
	if s.Groups == nil && s.Connections.Open == nil && s.Blocking.Block == nil &&
		s.Blocking.Mutex == nil && s.Requests == nil && s.Connections.Leaks == nil {
		return s
	}
	c := *s
	c.Groups = nil
	c.Connections.Open = nil
	c.Connections.Leaks = nil
	c.Blocking.Block = nil
	c.Blocking.Mutex = nil
	c.Requests = nil
	return &c
}

package tui

import (
	"runtime"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/model"
)

// TestStateMemoryIsFlatOverAnHour feeds an hour of one-second snapshots,
// each with its own 300-group table as a decoder produces, and checks that
// the state keeps ten minutes of history with tables only on the newest
// two, so the live heap after an hour is no larger than after twenty
// minutes.
func TestStateMemoryIsFlatOverAnHour(t *testing.T) {
	base := manyGroups(300)
	var st state
	heapAt := map[int]uint64{}
	for i := range 3600 {
		s := *base
		s.Seq = uint64(i + 1)
		s.Time = t0.Add(time.Duration(i) * time.Second)
		s.Groups = append([]model.GoroutineGroup(nil), base.Groups...)
		st.apply(Update{Snapshots: []*model.Snapshot{&s}}, t0)
		if i == 1199 || i == 3599 {
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			heapAt[i+1] = ms.HeapAlloc
		}
	}
	if n := len(st.history); n != 601 {
		t.Errorf("history holds %d snapshots, want 601 (ten minutes at 1s, both ends)", n)
	}
	for i, s := range st.history {
		if withTable := s.Groups != nil; withTable != (i >= len(st.history)-2) {
			t.Fatalf("snapshot %d of %d has groups = %v", i, len(st.history), withTable)
		}
	}
	if cap(st.history) > maxHistory+1 {
		t.Errorf("history backing array grew to %d", cap(st.history))
	}
	t.Logf("live heap after 1200 snapshots %.1f MiB, after 3600 %.1f MiB",
		float64(heapAt[1200])/(1<<20), float64(heapAt[3600])/(1<<20))
	// A generous margin: the check is that the heap does not grow with
	// the number of snapshots fed (it would by tens of MiB if it did).
	if heapAt[3600] > heapAt[1200]+4<<20 {
		t.Errorf("heap grew from %d to %d bytes between 20 and 60 minutes", heapAt[1200], heapAt[3600])
	}
}

func TestStateDropsBackfillOverlap(t *testing.T) {
	var st state
	st.apply(Update{Snapshots: []*model.Snapshot{fixtureSnapshot(0), fixtureSnapshot(1)}}, t0)
	// A reconnect's backfill repeats snapshot 1.
	st.apply(Update{Snapshots: []*model.Snapshot{fixtureSnapshot(1), fixtureSnapshot(2)}}, t0)
	if len(st.history) != 3 || st.received != 3 {
		t.Errorf("got %d snapshots (%d received), want 3", len(st.history), st.received)
	}
	// A restarted agent starts a new series even with an older clock.
	restarted := fixtureSnapshot(0)
	restarted.Process.StartTime = t0
	st.apply(Update{Snapshots: []*model.Snapshot{restarted}}, t0)
	if st.latest() != restarted {
		t.Errorf("snapshot of a restarted agent was dropped")
	}
}

package detectors

import (
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/model"
)

func stallGroup(file string, line, count int, wait string, ids ...int64) model.GoroutineGroup {
	site := model.Frame{Func: "example.com/svc.lockPath", File: file, Line: line}
	return model.GoroutineGroup{
		Key:        file + "|" + wait,
		WaitReason: wait,
		TopFrames:  []model.Frame{site},
		Stack:      []model.Frame{{Func: "sync.(*Mutex).Lock"}, site},
		Count:      count,
		SampleIDs:  ids,
	}
}

var (
	listener = stallGroup("/src/net.go", 1, 1, model.WaitIO, 5)
	// ownLoop is the agent's collection loop: detectors know it by the
	// label every goroutine of the agent carries.
	ownLoop = model.GoroutineGroup{Key: "own", WaitReason: model.WaitRunning, Count: 1,
		Labels: map[string]string{model.AgentLabel: "agent"},
		Stack:  []model.Frame{{Func: "github.com/asyncmon/asyncmon/collectors/goroutines.(*Collector).Collect"}}}
)

func TestStall(t *testing.T) {
	tests := []struct {
		name      string
		groups    func(i int) []model.GoroutineGroup
		wantCause string
		wantLevel model.Level
		wantSubj  string
	}{
		{name: "ab-ba", wantCause: CauseLockCycle, wantLevel: model.LevelCritical, wantSubj: "/src/a.go:10", groups: func(i int) []model.GoroutineGroup {
			return []model.GoroutineGroup{listener, stallGroup("/src/b.go", 20, 3+i, model.WaitMutex, 31, 32), stallGroup("/src/a.go", 10, 2+i, model.WaitMutex, 21, 22)}
		}},
		{name: "one lock held", wantCause: CauseLockHeld, wantLevel: model.LevelWarning, wantSubj: "/src/a.go:10", groups: func(i int) []model.GoroutineGroup {
			return []model.GoroutineGroup{listener, stallGroup("/src/a.go", 10, 4, model.WaitMutex, 21)}
		}},
		{name: "contention turns over", groups: func(i int) []model.GoroutineGroup {
			return []model.GoroutineGroup{listener, stallGroup("/src/a.go", 10, 4, model.WaitMutex, int64(100+i)), stallGroup("/src/b.go", 20, 4, model.WaitMutex, int64(300+i))}
		}},
		{name: "contention comes and goes", groups: func(i int) []model.GoroutineGroup {
			gs := []model.GoroutineGroup{listener}
			if i%5 != 0 {
				gs = append(gs, stallGroup("/src/a.go", 10, 4, model.WaitMutex, 21), stallGroup("/src/b.go", 20, 4, model.WaitMutex, 31))
			}
			return gs
		}},
		{name: "main waits on a wait group", groups: func(i int) []model.GoroutineGroup {
			return []model.GoroutineGroup{listener, stallGroup("/src/main.go", 30, 1, model.WaitWaitGroup, 1)}
		}},
		{name: "idle workers on a channel", groups: func(i int) []model.GoroutineGroup {
			return []model.GoroutineGroup{listener, stallGroup("/src/pool.go", 30, 16, model.WaitChanRecv, 40, 41, 42)}
		}},
		{name: "quiescent", wantCause: CauseQuiescence, wantLevel: model.LevelCritical, wantSubj: "/src/main.go:30", groups: func(i int) []model.GoroutineGroup {
			return []model.GoroutineGroup{ownLoop, stallGroup("/src/main.go", 30, 1, model.WaitWaitGroup, 1), stallGroup("/src/pool.go", 30, 16, model.WaitChanSend, 40, 41, 42)}
		}},
		{name: "quiet but only for a moment", groups: func(i int) []model.GoroutineGroup {
			return []model.GoroutineGroup{ownLoop, stallGroup("/src/pool.go", 30, 16, model.WaitChanSend, int64(i))}
		}},
	}
	d := NewStall(StallConfig{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := groupSeries(40, time.Second, func(i int, s *model.Snapshot) { s.Groups = tc.groups(i) })
			fs := d.Detect(w)
			if tc.wantCause == "" {
				if len(fs) != 0 {
					t.Fatalf("got %q, want no finding", fs[0].Summary)
				}
				return
			}
			if len(fs) != 1 {
				t.Fatalf("got %d findings, want 1", len(fs))
			}
			f := fs[0]
			if f.Cause != tc.wantCause || f.Level != tc.wantLevel || f.Subject != tc.wantSubj {
				t.Fatalf("got cause %q level %q subject %q, want %q %q %q", f.Cause, f.Level, f.Subject, tc.wantCause, tc.wantLevel, tc.wantSubj)
			}
			if len(f.Evidence.Stacks) == 0 || f.Evidence.Numbers["stalled_seconds"] < 20 { // StallFor's default
				t.Fatalf("thin evidence: %+v", f.Evidence)
			}
		})
	}
}

func TestStallNeedsTime(t *testing.T) {
	w := groupSeries(20, time.Second, func(i int, s *model.Snapshot) {
		s.Groups = []model.GoroutineGroup{stallGroup("/src/a.go", 10, 2, model.WaitMutex, 21), stallGroup("/src/b.go", 20, 2, model.WaitMutex, 31)}
	})
	if fs := NewStall(StallConfig{}).Detect(w); len(fs) != 0 {
		t.Fatalf("fired after 19s, want StallFor (30s) first: %s", fs[0].Summary)
	}
}

func TestStallFromOneDump(t *testing.T) {
	a := stallGroup("/src/a.go", 10, 2, model.WaitMutex, 21)
	b := stallGroup("/src/b.go", 20, 2, model.WaitMutex, 31)
	a.MaxWait, b.MaxWait = 2*time.Minute, 2*time.Minute
	w := model.Window{Snapshots: []*model.Snapshot{{Time: t0, GroupTable: model.GroupTable{Groups: []model.GoroutineGroup{listener, a, b}}}}}
	fs := NewStall(StallConfig{}).Detect(w)
	if len(fs) != 1 || fs[0].Cause != CauseLockCycle {
		t.Fatalf("got %+v, want a lock cycle from the dump's wait times", fs)
	}
}

func TestStallContendedLockWithBlockProfile(t *testing.T) {
	// The same waiters counted in every table (no IDs from the
	// concurrent profile), but the block profile sees waits at the site
	// complete: contention, not a stall.
	a := stallGroup("/src/a.go", 10, 2, model.WaitMutex)
	b := stallGroup("/src/b.go", 20, 2, model.WaitMutex)
	w := groupSeries(40, time.Second, func(i int, s *model.Snapshot) {
		s.Groups = []model.GoroutineGroup{listener, a, b}
		s.Blocking.Block = []model.BlockingSite{{Site: a.Site(), Count: 50}, {Site: b.Site(), Count: 10}}
	})
	if fs := NewStall(StallConfig{}).Detect(w); len(fs) != 0 {
		t.Fatalf("got %q, want none while waits complete", fs[0].Summary)
	}
	for _, s := range w.Snapshots[5:] {
		s.Blocking.Block = nil
	}
	if fs := NewStall(StallConfig{}).Detect(w); len(fs) != 1 || fs[0].Cause != CauseLockCycle {
		t.Fatalf("got %+v, want a lock cycle once waits stop completing", fs)
	}
}

func TestForDumpFindsLongWaits(t *testing.T) {
	a := stallGroup("/src/a.go", 10, 2, model.WaitMutex, 21)
	b := stallGroup("/src/b.go", 20, 2, model.WaitMutex, 31)
	a.MaxWait, b.MaxWait = 3*time.Minute, 3*time.Minute
	w := model.Window{Snapshots: []*model.Snapshot{{Time: t0, GroupTable: model.GroupTable{Groups: []model.GoroutineGroup{listener, a, b}}}}}
	ds, live := ForDump()
	if len(live) == 0 {
		t.Fatal("no live-only detectors named")
	}
	var got []string
	for _, d := range ds {
		for _, f := range d.Detect(w) {
			got = append(got, f.Cause)
		}
	}
	if len(got) != 1 || got[0] != CauseLockCycle {
		t.Fatalf("got causes %v, want [lock-cycle]", got)
	}
}

func TestStallQuiescenceIgnoresLabelledAgentGoroutines(t *testing.T) {
	// The agent's API connections wait on I/O, but carry its label.
	agentConn := stallGroup("/go/src/net/fd.go", 1, 2, model.WaitIO, 77)
	agentConn.Labels = map[string]string{model.AgentLabel: "agent"}
	w := groupSeries(40, time.Second, func(i int, s *model.Snapshot) {
		s.Groups = []model.GoroutineGroup{agentConn, stallGroup("/src/batch.go", 30, 4, model.WaitChanRecv, 40, 41)}
	})
	fs := NewStall(StallConfig{}).Detect(w)
	if len(fs) != 1 || fs[0].Cause != CauseQuiescence {
		t.Fatalf("got %+v, want quiescence", fs)
	}
	agentConn.Labels = nil // now it is the service's own connection
	w = groupSeries(40, time.Second, func(i int, s *model.Snapshot) {
		s.Groups = []model.GoroutineGroup{agentConn, stallGroup("/src/batch.go", 30, 4, model.WaitChanRecv, 40, 41)}
	})
	if fs := NewStall(StallConfig{}).Detect(w); len(fs) != 0 {
		t.Fatalf("got %q with a connection in I/O wait, want none", fs[0].Summary)
	}
}

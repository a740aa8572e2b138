package detectors

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/model"
)

// TestStuckSendEvidence checks what a stuck-send finding says about
// proof, for each state of the runtime's goroutineleak profile, and that
// a site where the block profile saw sends complete is not judged stuck.
func TestStuckSendEvidence(t *testing.T) {
	end := t0.Add(29 * time.Second)
	tests := []struct {
		name     string
		lc       *model.LeakCheck
		progress bool
		want     string // in the note; "" means no finding
	}{
		{"no profile", &model.LeakCheck{Available: false}, false, "judged without proof"},
		{"checked, not listed", &model.LeakCheck{Available: true, Time: end.Add(-time.Second), Goroutines: 40, Leaked: 2}, false, "not confirmed by the runtime"},
		{"checked before it was stuck", &model.LeakCheck{Available: true, Time: t0.Add(-time.Minute), Goroutines: 40}, false, "not checked by the runtime yet"},
		{"pause bound", &model.LeakCheck{Available: true, Limited: "at 200000 goroutines a read's pause is expected to be 100ms"}, false, "above"},
		{"no collector", nil, false, "no goroutine collector"},
		{"progress seen by the block profile", &model.LeakCheck{}, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := groupSeries(30, time.Second, func(i int, s *model.Snapshot) {
				// No IDs, as from the concurrent profile: a count
				// that never fell.
				s.Groups = []model.GoroutineGroup{leakGroup(3, model.WaitChanSend)}
				if i == 29 {
					s.LeakCheck = tc.lc
				}
				if tc.progress {
					g := leakGroup(3, model.WaitChanSend)
					s.Blocking.Block = []model.BlockingSite{{Site: g.Site(), Count: 4}}
				}
			})
			if tc.lc != nil && tc.lc.Limited != "" {
				tc.want = tc.lc.Limited
			}
			var got *model.Finding
			for _, f := range NewLeak(LeakConfig{}).Detect(w) {
				if f.Cause == CauseStuckSend {
					got = &f
				}
			}
			if tc.want == "" {
				if got != nil {
					t.Fatalf("got %q, want no stuck-send finding", got.Summary)
				}
				return
			}
			if got == nil {
				t.Fatal("no stuck-send finding")
			}
			if got.Level != model.LevelWarning || got.Subject != "/src/svc/handler.go:42" {
				t.Errorf("level %q subject %q", got.Level, got.Subject)
			}
			if len(got.Evidence.Notes) != 1 || !strings.Contains(got.Evidence.Notes[0], tc.want) {
				t.Errorf("notes %q, want one containing %q", got.Evidence.Notes, tc.want)
			}
		})
	}
}

// TestStuckSendNeedsTime: a send that has waited less than SuspectFor,
// or whose goroutines changed (fewer of them at some point), is not
// judged.
func TestStuckSendNeedsTime(t *testing.T) {
	for name, count := range map[string]func(int) int{
		"too young":    func(i int) int { return 3 },
		"count fell":   func(i int) int { return 3 - i%2 },
		"all replaced": func(i int) int { return 3 },
	} {
		t.Run(name, func(t *testing.T) {
			n := 30
			if name == "too young" {
				n = 15
			}
			w := groupSeries(n, time.Second, func(i int, s *model.Snapshot) {
				g := leakGroup(count(i), model.WaitChanSend)
				if name == "all replaced" {
					g.SampleIDs = []int64{int64(100 + i)} // different goroutines each time
				}
				s.Groups = []model.GoroutineGroup{g}
			})
			for _, f := range NewLeak(LeakConfig{}).Detect(w) {
				if f.Cause == CauseStuckSend {
					t.Fatalf("got %q", f.Summary)
				}
			}
		})
	}
}

func TestEnclosingFunc(t *testing.T) {
	for in, want := range map[string]string{
		"example.com/svc.fanOut":               "example.com/svc.fanOut",
		"example.com/svc.fanOut.func1":         "example.com/svc.fanOut",
		"example.com/svc.(*S).run.func2.3":     "example.com/svc.(*S).run",
		"example.com/svc.main.gowrap1":         "example.com/svc.main",
		"example.com/svc.(*S).run.func1.func2": "example.com/svc.(*S).run",
	} {
		if got := enclosingFunc(in); got != want {
			t.Errorf("enclosingFunc(%q) = %q, want %q", in, got, want)
		}
	}
}

// peerGroup is a group of goroutines started at example.com/sim.run.gowrap1
// (a `go worker(...)` statement), waiting with reason wait in fn at line.
func peerGroup(start string, count int, wait, fn string, line int) model.GoroutineGroup {
	site := model.Frame{Func: "example.com/sim." + fn, File: "/src/sim/sim.go", Line: line}
	return model.GoroutineGroup{
		Key:        fmt.Sprintf("sim.go:%d|%s", line, wait),
		Start:      model.Frame{Func: "example.com/sim." + start, File: "/src/sim/sim.go", Line: 90},
		WaitReason: wait,
		TopFrames:  []model.Frame{site},
		Stack:      []model.Frame{{Func: "runtime.gopark"}, site},
		Count:      count,
	}
}

// TestStuckCondPeers: a Cond wait whose peers (the other goroutines of
// its start function) are all stuck, one of them on a channel, is judged
// stuck (a barrier whose last worker never arrives); Cond waiters whose
// peers move, or are all in Cond.Wait themselves (idle consumers of
// another goroutine's items), or that have no peers, are not.
func TestStuckCondPeers(t *testing.T) {
	barrier := peerGroup("run.gowrap1", 15, model.WaitCond, "(*Barrier).Await", 30)
	tests := []struct {
		name   string
		groups func(i int) []model.GoroutineGroup
		want   bool
	}{
		{"barrier behind a receive", func(int) []model.GoroutineGroup {
			return []model.GoroutineGroup{barrier, peerGroup("run.gowrap1", 1, model.WaitChanRecv, "worker", 52)}
		}, true},
		{"peer still moving", func(i int) []model.GoroutineGroup {
			return []model.GoroutineGroup{barrier, peerGroup("run.gowrap1", 2-i%2, model.WaitChanRecv, "worker", 52)}
		}, false},
		{"peer running", func(int) []model.GoroutineGroup {
			return []model.GoroutineGroup{barrier, peerGroup("run.gowrap1", 1, model.WaitRunnable, "worker", 55)}
		}, false},
		{"idle consumers, producer sleeping", func(int) []model.GoroutineGroup {
			return []model.GoroutineGroup{
				peerGroup("consume", 8, model.WaitCond, "(*Queue).Get", 30),
				peerGroup("consume", 2, model.WaitCond, "(*Queue).GetBatch", 40),
				peerGroup("produce", 1, model.WaitSleep, "produce", 70),
			}
		}, false},
		{"no peers", func(int) []model.GoroutineGroup { return []model.GoroutineGroup{barrier} }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := groupSeries(30, time.Second, func(i int, s *model.Snapshot) {
				s.Groups = tc.groups(i)
				s.LeakCheck = &model.LeakCheck{}
			})
			var got *model.Finding
			for _, f := range NewLeak(LeakConfig{}).Detect(w) {
				if f.Level != model.LevelInfo {
					if f.Cause != CauseStuckWait || f.Subject != "/src/sim/sim.go:30" {
						t.Fatalf("unexpected finding %s at %s: %s", f.Cause, f.Subject, f.Summary)
					}
					got = &f
				}
			}
			switch {
			case tc.want && got == nil:
				t.Fatal("no stuck-wait finding")
			case !tc.want && got != nil:
				t.Fatalf("got %q, want none", got.Summary)
			case got != nil && (got.Level != model.LevelWarning || !strings.Contains(got.Summary, "sim.go:52") || len(got.Evidence.Stacks) != 2):
				t.Fatalf("finding does not name the stuck peer: %+v", got)
			}
			if got != nil {
				t.Log(got.Summary)
			}
		})
	}
}

package detectors

import (
	"cmp"
	"math"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/model"
)

func leakGroup(count int, wait string, ids ...int64) model.GoroutineGroup {
	site := model.Frame{Func: "example.com/svc.(*Handler).fetch.func1", File: "/src/svc/handler.go", Line: 42}
	return model.GoroutineGroup{
		Key:        "svc/handler.go:42|" + wait,
		CreatedBy:  model.Frame{Func: "example.com/svc.(*Handler).fetch", File: "/src/svc/handler.go", Line: 40},
		WaitReason: wait,
		TopFrames:  []model.Frame{site},
		Stack:      []model.Frame{{Func: "runtime.gopark"}, site},
		Count:      count,
		SampleIDs:  ids,
	}
}

// groupSeries returns n snapshots step apart, with group tables.
func groupSeries(n int, step time.Duration, f func(i int, s *model.Snapshot)) model.Window {
	var w model.Window
	for i := range n {
		at := t0.Add(time.Duration(i) * step)
		s := &model.Snapshot{Time: at, GroupTable: model.GroupTable{GroupsTime: at}}
		f(i, s)
		w.Snapshots = append(w.Snapshots, s)
	}
	return w
}

func TestLeakGrowth(t *testing.T) {
	tests := []struct {
		name      string
		n         int
		count     func(i int) int
		wantLevel model.Level // "" means none
		wait      string      // default chan send
	}{
		{name: "steady leak", n: 60, count: func(i int) int { return 10 + 2*i }, wantLevel: model.LevelWarning},
		{name: "steady leak with jitter", n: 60, count: func(i int) int { return 10 + 2*i + (i%3)*3 }, wantLevel: model.LevelWarning},
		{name: "huge leak is critical", n: 60, count: func(i int) int { return 9000 + 50*i }, wantLevel: model.LevelCritical},
		{name: "too short", n: 15, count: func(i int) int { return 10 + 5*i }},
		{name: "flat pool", n: 60, count: func(int) int { return 64 }},
		{name: "burst that drains", n: 60, count: func(i int) int { return 10 + 100*int(math.Max(0, 10-math.Abs(float64(i-30)))) }},
		{name: "ramp then plateau", n: 120, count: func(i int) int { return min(10+3*i, 100) }},
		{name: "oscillating load", n: 120, count: func(i int) int { return 50 + int(40*math.Sin(float64(i)/5)) }},
		// Keep-alive connections and sleeping pollers wake by
		// themselves: 40s of growth is a ramp of load, 70s a trend.
		{name: "connections ramping for 40s", n: 40, count: func(i int) int { return 10 + 2*i }, wait: model.WaitIO},
		{name: "sleepers ramping for 40s", n: 40, count: func(i int) int { return 10 + 2*i }, wait: model.WaitSleep},
		{name: "connections growing for 70s", n: 70, count: func(i int) int { return 10 + 2*i }, wait: model.WaitIO, wantLevel: model.LevelWarning},
		{name: "slow growth below threshold", n: 60, count: func(i int) int { return 30 + i/4 }},
	}
	d := NewLeak(LeakConfig{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wait := cmp.Or(tc.wait, model.WaitChanSend)
			w := groupSeries(tc.n, time.Second, func(i int, s *model.Snapshot) {
				s.Groups = []model.GoroutineGroup{leakGroup(tc.count(i), wait, int64(i+1000))}
			})
			fs := d.Detect(w)
			if tc.wantLevel == "" {
				if len(fs) != 0 {
					t.Fatalf("got %q, want no finding", fs[0].Summary)
				}
				return
			}
			if len(fs) != 1 {
				t.Fatalf("got %d findings, want 1", len(fs))
			}
			f := fs[0]
			if f.Level != tc.wantLevel || f.Cause != CauseGrowing {
				t.Fatalf("got level %q cause %q, want %q growing", f.Level, f.Cause, tc.wantLevel)
			}
			if f.Subject != "/src/svc/handler.go:42" || !contains(f.Summary, "handler.go:42") || len(f.Evidence.Stacks) != 1 {
				t.Fatalf("finding does not name the site: %+v", f)
			}
		})
	}
}

func TestLeakParked(t *testing.T) {
	tests := []struct {
		name      string
		group     func(i int) model.GoroutineGroup
		wantLevel model.Level
		wantCause string
	}{
		{name: "same ids on chan", group: func(int) model.GoroutineGroup { return leakGroup(12, model.WaitChanRecv, 11, 12, 13) }, wantLevel: model.LevelInfo, wantCause: CauseParked},
		{name: "small parked group is not worth a finding", group: func(int) model.GoroutineGroup { return leakGroup(3, model.WaitChanRecv, 11, 12, 13) }},
		{name: "ids turn over", group: func(i int) model.GoroutineGroup {
			return leakGroup(8, model.WaitChanRecv, int64(100+i), int64(200+i))
		}},
		{name: "nil chan", group: func(int) model.GoroutineGroup { return leakGroup(3, model.WaitNilChan, 7) }, wantLevel: model.LevelWarning, wantCause: CauseNilChan},
		{name: "confirmed by runtime", group: func(i int) model.GoroutineGroup {
			g := leakGroup(3, model.WaitChanRecv, int64(100+i))
			g.Leaked = 3
			return g
		}, wantLevel: model.LevelCritical, wantCause: CauseConfirmed},
		{name: "mutex is not a leak", group: func(int) model.GoroutineGroup { return leakGroup(3, model.WaitMutex, 7) }},
	}
	d := NewLeak(LeakConfig{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := groupSeries(70, 10*time.Second, func(i int, s *model.Snapshot) {
				s.Groups = []model.GoroutineGroup{tc.group(i)}
			})
			fs := d.Detect(w)
			if tc.wantLevel == "" {
				if len(fs) != 0 {
					t.Fatalf("got %q, want no finding", fs[0].Summary)
				}
				return
			}
			if len(fs) != 1 || fs[0].Level != tc.wantLevel || fs[0].Cause != tc.wantCause {
				t.Fatalf("got %+v, want one %s %s finding", fs, tc.wantLevel, tc.wantCause)
			}
		})
	}
}

func TestLeakParkedFromOneDump(t *testing.T) {
	g := leakGroup(15, model.WaitSelect, 9)
	g.MaxWait = 15 * time.Minute
	w := model.Window{Snapshots: []*model.Snapshot{{Time: t0, GroupTable: model.GroupTable{Groups: []model.GoroutineGroup{g}}}}}
	fs := NewLeak(LeakConfig{}).Detect(w)
	if len(fs) != 1 || fs[0].Cause != CauseParked {
		t.Fatalf("got %+v, want one parked finding from the dump's wait time", fs)
	}
}

// t0 is the time of the first snapshot in the tests' windows.
var t0 = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

// TestLeakNilChanAtOnce checks that goroutines on a nil channel are
// reported from the first tables, at any count, and that the main
// goroutine's `select {}` is not.
func TestLeakNilChanAtOnce(t *testing.T) {
	mainWait := leakGroup(1, model.WaitNilChan)
	mainWait.Key = "main.go:12|nil chan"
	mainWait.Start = model.Frame{Func: "main.main", File: "/src/cmd/svc/main.go", Line: 9}
	mainWait.TopFrames = []model.Frame{{Func: "main.main", File: "/src/cmd/svc/main.go", Line: 12}}
	tests := []struct {
		name  string
		group model.GoroutineGroup
		want  bool
	}{
		{"one goroutine on a nil channel", leakGroup(1, model.WaitNilChan), true},
		{"main's select {}", mainWait, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := groupSeries(3, 2*time.Second, func(_ int, s *model.Snapshot) {
				s.Groups = []model.GoroutineGroup{tc.group}
			})
			fs := NewLeak(LeakConfig{}).Detect(w)
			if !tc.want {
				if len(fs) != 0 {
					t.Fatalf("got %q, want no finding", fs[0].Summary)
				}
				return
			}
			if len(fs) != 1 || fs[0].Level != model.LevelWarning || fs[0].Cause != CauseNilChan {
				t.Fatalf("got %+v, want one nil-chan warning", fs)
			}
			if f := fs[0]; f.Subject != "/src/svc/handler.go:42" || !contains(f.Summary, "since 2026-11-27T00:00:00Z (4s)") {
				t.Fatalf("finding does not say where and since when: %s", f.Summary)
			}
		})
	}
}

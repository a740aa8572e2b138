package failures

import (
	"strings"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/model"
)

// t0 is the time of the newest snapshot in the tests' windows.
var t0 = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

// secondly returns one snapshot a second for n seconds ending at t0, each
// filled by fill(i).
func secondly(n int, fill func(i int, s *model.Snapshot)) model.Window {
	var w model.Window
	for i := range n {
		s := &model.Snapshot{Time: t0.Add(time.Duration(i-n+1) * time.Second)}
		fill(i, s)
		w.Snapshots = append(w.Snapshots, s)
	}
	return w
}

func TestPanicsCountsTheWindowOnly(t *testing.T) {
	site := model.Frame{Func: "example.com/svc.handle", File: "/src/svc/h.go", Line: 12}
	ps := func(n int64) []model.PanicSite {
		return []model.PanicSite{{Kind: model.PanicHandler, Site: site, Route: "GET /x", Value: "boom", Count: n, Last: t0}}
	}
	d := NewPanics(PanicConfig{Window: time.Minute})
	tests := []struct {
		name  string
		old   int64 // count a minute and more ago
		now   int64
		want  int64 // 0: no finding
		level model.Level
	}{
		{"old panics only", 5, 5, 0, ""},
		{"two new", 5, 7, 2, model.LevelWarning},
		{"many new", 0, 12, 12, model.LevelCritical},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := secondly(90, func(i int, s *model.Snapshot) {
				if i < 30 {
					s.Panics = ps(tc.old)
				} else {
					s.Panics = ps(tc.now)
				}
			})
			fs := d.Detect(w)
			if tc.want == 0 {
				if len(fs) != 0 {
					t.Fatalf("findings %+v, want none", fs)
				}
				return
			}
			if len(fs) != 1 {
				t.Fatalf("got %d findings, want 1", len(fs))
			}
			f := fs[0]
			if f.Subject != "/src/svc/h.go:12" || f.Level != tc.level || f.Evidence.Numbers["panics_in_window"] != float64(tc.want) ||
				!strings.HasPrefix(f.Title, "handlers panic at /src/svc/h.go:12") || !strings.Contains(f.Summary, "GET /x") {
				t.Errorf("finding = %+v", f)
			}
		})
	}
	// A history shorter than the window counts from the agent's start.
	w := secondly(5, func(i int, s *model.Snapshot) { s.Panics = ps(int64(i)) })
	if fs := d.Detect(w); len(fs) != 1 || fs[0].Evidence.Numbers["panics_in_window"] != 4 {
		t.Errorf("short history: %+v", fs)
	}
}

func TestNoDeadline(t *testing.T) {
	site := model.Frame{Func: "example.com/svc.fetch", File: "/src/svc/f.go", Line: 40}
	d := NewNoDeadline(NoDeadlineConfig{Window: time.Minute})
	calls := func(n int64, kind string) []model.CallSite {
		return []model.CallSite{{Kind: kind, Site: site, Target: "inventory:80", Count: n, Last: t0}}
	}
	// Calls long ago and none since: quiet.
	w := secondly(90, func(i int, s *model.Snapshot) { s.NoDeadline = calls(3, model.CallHTTP) })
	if fs := d.Detect(w); len(fs) != 0 {
		t.Errorf("old calls: %+v", fs)
	}
	for _, kind := range []string{model.CallHTTP, model.CallSQL} {
		w = secondly(90, func(i int, s *model.Snapshot) { s.NoDeadline = calls(int64(i), kind) })
		fs := d.Detect(w)
		if len(fs) != 1 {
			t.Fatalf("%s: got %d findings", kind, len(fs))
		}
		f := fs[0]
		advice := "http.Client"
		if kind == model.CallSQL {
			advice = "QueryContext"
		}
		if f.Subject != "/src/svc/f.go:40" || f.Cause != kind || f.Evidence.Numbers["calls_in_window"] != 60 ||
			!strings.Contains(f.Summary, advice) || !strings.Contains(f.Title, "without a deadline at /src/svc/f.go:40") {
			t.Errorf("%s: finding = %+v", kind, f)
		}
	}
}

func TestOverload(t *testing.T) {
	d := NewOverload(OverloadConfig{})
	load := func(inflight int, started, completed uint64) model.RequestLoad {
		return model.RequestLoad{InFlight: inflight, StartedTotal: started, CompletedTotal: completed}
	}
	tests := []struct {
		name  string
		fill  func(i int, s *model.Snapshot)
		cause string // "": no finding
	}{
		{"steady load", func(i int, s *model.Snapshot) {
			s.RequestLoad = load(10+i%3, uint64(50*i), uint64(50*i-10))
		}, ""},
		{"one burst", func(i int, s *model.Snapshot) {
			n := 5
			if i == 15 {
				n = 80
			}
			s.RequestLoad = load(n, uint64(50*i), uint64(50*i-n))
		}, ""},
		{"piles up", func(i int, s *model.Snapshot) {
			s.RequestLoad = load(5+15*i, uint64(20*i), uint64(5*i))
		}, CauseNoShedding},
		{"nothing completes", func(i int, s *model.Snapshot) {
			s.RequestLoad = load(5+15*i, uint64(1000+15*i), 995)
		}, CauseStuck},
		{"starved", func(i int, s *model.Snapshot) {
			s.RequestLoad = load(5+15*i, uint64(20*i), uint64(5*i))
			s.Scheduler.LatencyP99 = 0.2
		}, CauseStarved},
		{"grows but keeps up", func(i int, s *model.Snapshot) {
			// Long-lived streams: in flight grows, arrivals barely exceed completions.
			s.RequestLoad = load(5+i, uint64(1000*i), uint64(1000*i-i))
		}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := d.Detect(secondly(25, tc.fill))
			if tc.cause == "" {
				if len(fs) != 0 {
					t.Fatalf("findings %+v, want none", fs)
				}
				return
			}
			if len(fs) != 1 || fs[0].Cause != tc.cause || fs[0].Subject != "process" {
				t.Fatalf("findings %+v, want one with cause %s", fs, tc.cause)
			}
		})
	}
	// A stretched interval (6 s, as the budget makes it on a loaded
	// host) still holds a trend: the window widens to five collections.
	var slow model.Window
	for i := range 12 {
		s := &model.Snapshot{Time: t0.Add(time.Duration(i-11) * 6 * time.Second)}
		s.RequestLoad = load(5+60*i, uint64(100*i), uint64(25*i))
		slow.Snapshots = append(slow.Snapshots, s)
	}
	if fs := d.Detect(slow); len(fs) != 1 || fs[0].Cause != CauseNoShedding {
		t.Errorf("stretched interval: findings %+v, want one with cause %s", fs, CauseNoShedding)
	}
	// A window not yet filled says nothing.
	if fs := d.Detect(secondly(8, func(i int, s *model.Snapshot) { s.RequestLoad = load(5+15*i, uint64(20*i), uint64(5*i)) })); len(fs) != 0 {
		t.Errorf("short window: %+v", fs)
	}
}

func TestCrash(t *testing.T) {
	d := NewCrash(CrashConfig{})
	c := &model.Crash{Time: t0.Add(-time.Hour), Kind: "fatal error", Message: "concurrent map writes", GoroutineID: 7,
		Site: model.Frame{Func: "example.com/svc.(*Cache).Put", File: "/src/svc/cache.go", Line: 55}, Capture: "cap-9"}
	snap := func(start time.Time) model.Window {
		return model.Window{Snapshots: []*model.Snapshot{{Time: t0, Crash: c, Process: model.Process{StartTime: start}}}}
	}
	fs := d.Detect(snap(t0.Add(-time.Minute)))
	if len(fs) != 1 {
		t.Fatalf("got %d findings", len(fs))
	}
	f := fs[0]
	for _, want := range []string{"fatal error: concurrent map writes", "goroutine 7", "/src/svc/cache.go:55", c.Time.UTC().Format(time.RFC3339)} {
		if !strings.Contains(f.Summary, want) {
			t.Errorf("summary lacks %q: %s", want, f.Summary)
		}
	}
	if f.Level != model.LevelCritical || f.Subject != "/src/svc/cache.go:55" || len(f.Evidence.Captures) != 1 {
		t.Errorf("finding = %+v", f)
	}
	// Reported for the agent's first hour only; offline (no start) always.
	if fs := d.Detect(snap(t0.Add(-2 * time.Hour))); len(fs) != 0 {
		t.Errorf("after an hour: %+v", fs)
	}
	if fs := d.Detect(snap(time.Time{})); len(fs) != 1 {
		t.Errorf("offline: %+v", fs)
	}
}

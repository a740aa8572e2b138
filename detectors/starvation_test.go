package detectors

import (
	"strings"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/model"
)

// series returns n snapshots one second apart, each set up by f(i, s).
func series(n int, f func(i int, s *model.Snapshot)) model.Window {
	var w model.Window
	for i := range n {
		s := &model.Snapshot{
			Seq:             uint64(i + 1),
			Time:            t0.Add(time.Duration(i) * time.Second),
			IntervalSeconds: 1,
			Process:         model.Process{GOMAXPROCS: 4, NumCPU: 4, Threads: 10},
			Scheduler:       model.Scheduler{LatencyCount: 1000, ProbeSamples: 100, LatencyP99: 0.0002, ProbeLagP99: 0.001},
		}
		f(i, s)
		w.Snapshots = append(w.Snapshots, s)
	}
	return w
}

func TestStarvationVerdicts(t *testing.T) {
	starve := func(s *model.Snapshot) {
		s.Scheduler.LatencyP99 = 0.06
		s.Scheduler.ProbeLagP99 = 0.07
	}
	tests := []struct {
		name      string
		setup     func(i int, s *model.Snapshot)
		wantCause string // "" means no finding
		wantLevel model.Level
	}{
		{name: "healthy", setup: func(int, *model.Snapshot) {}},
		{name: "one slow interval", setup: func(i int, s *model.Snapshot) {
			if i == 5 {
				starve(s)
			}
		}},
		{name: "intermittent", setup: func(i int, s *model.Snapshot) {
			if i%2 == 0 {
				starve(s)
			}
		}},
		{name: "cpu saturated by runnable", wantCause: CauseCPU, wantLevel: model.LevelWarning, setup: func(i int, s *model.Snapshot) {
			starve(s)
			s.Goroutines.Runnable = 40
		}},
		{name: "cpu saturated by utilisation", wantCause: CauseCPU, wantLevel: model.LevelWarning, setup: func(i int, s *model.Snapshot) {
			starve(s)
			s.Process.CPUUtilization = 3.9
		}},
		{name: "critical latency", wantCause: CauseCPU, wantLevel: model.LevelCritical, setup: func(i int, s *model.Snapshot) {
			starve(s)
			s.Scheduler.ProbeLagP99 = 0.25
			s.Goroutines.Runnable = 40
		}},
		{name: "gc bound", wantCause: CauseGC, wantLevel: model.LevelWarning, setup: func(i int, s *model.Snapshot) {
			starve(s)
			s.GC.CPUFraction = 0.4
			s.Process.CPUUtilization = 3.9
		}},
		{name: "gc assists", wantCause: CauseGC, wantLevel: model.LevelWarning, setup: func(i int, s *model.Snapshot) {
			starve(s)
			s.GC.AssistFraction = 0.2
		}},
		{name: "stw pauses", wantCause: CauseSTW, wantLevel: model.LevelWarning, setup: func(i int, s *model.Snapshot) {
			starve(s)
			s.Scheduler.PauseMax = 0.05
			s.Process.CPUUtilization = 1.5
		}},
		{name: "long pauses on a starved host", wantCause: CauseHostContention, wantLevel: model.LevelInfo, setup: func(i int, s *model.Snapshot) {
			// Seen on a 2-core host at load average 16: the run queue
			// is quick, timers and pauses are not, the process idles.
			s.Scheduler.LatencyP99 = 0.0013
			s.Scheduler.ProbeLagP99 = 0.65
			s.Scheduler.PauseMax = 0.117
			s.Process.CPUUtilization = 0.05
		}},
		{name: "pauses and a slow run queue on a saturated host", wantCause: CauseHostContention, wantLevel: model.LevelInfo, setup: func(i int, s *model.Snapshot) {
			// Seen on idle programs at load average 15 to 29 on 2
			// cores: the OS runs the threads late, so the run queue,
			// timers and pauses all stretch; /proc/stat shows the host
			// saturated while the process idles.
			starve(s)
			s.Scheduler.PauseMax = 0.04
			s.Process.CPUUtilization = 0.1
			s.Process.HostCPUBusy = 0.97
		}},
		{name: "pauses of its own on a quiet host", wantCause: CauseSTW, wantLevel: model.LevelWarning, setup: func(i int, s *model.Snapshot) {
			starve(s)
			s.Scheduler.PauseMax = 0.04
			s.Process.CPUUtilization = 0.1
			s.Process.HostCPUBusy = 0.3
		}},
		{name: "throttled", wantCause: CauseThrottled, wantLevel: model.LevelWarning, setup: func(i int, s *model.Snapshot) {
			starve(s)
			s.Process.CPUUtilization = 0.5
			s.Process.Cgroup = &model.Cgroup{QuotaCores: 0.5, PeriodsTotal: int64(10 * i), ThrottledPeriodsTotal: int64(5 * i)}
		}},
		{name: "gomaxprocs above quota", wantCause: CauseThrottled, wantLevel: model.LevelWarning, setup: func(i int, s *model.Snapshot) {
			starve(s)
			s.Process.Cgroup = &model.Cgroup{QuotaCores: 1}
		}},
		{name: "syscalls", wantCause: CauseSyscall, wantLevel: model.LevelWarning, setup: func(i int, s *model.Snapshot) {
			starve(s)
			s.Goroutines.NotInGo = 30
			s.Process.Threads = 10 + 3*i
		}},
		{name: "host contention", wantCause: CauseHostContention, wantLevel: model.LevelInfo, setup: func(i int, s *model.Snapshot) {
			starve(s)
			s.Process.CPUUtilization = 0.2
		}},
		{name: "probe only", wantCause: CauseHostContention, wantLevel: model.LevelInfo, setup: func(i int, s *model.Snapshot) {
			s.Scheduler.LatencyCount = 0
			s.Scheduler.LatencyP99 = 0
			s.Scheduler.ProbeLagP99 = 0.08
		}},
	}
	d := NewStarvation(StarvationConfig{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := d.Detect(series(30, tc.setup))
			if tc.wantCause == "" {
				if len(fs) != 0 {
					t.Fatalf("got %d findings (%s), want none", len(fs), fs[0].Summary)
				}
				return
			}
			if len(fs) != 1 {
				t.Fatalf("got %d findings, want 1", len(fs))
			}
			f := fs[0]
			if f.Cause != tc.wantCause || f.Level != tc.wantLevel {
				t.Fatalf("got cause %q level %q, want %q %q\n%s", f.Cause, f.Level, tc.wantCause, tc.wantLevel, f.Summary)
			}
			if f.ID != "starvation:process" || f.Subject != "process" || f.Summary == "" || len(f.Evidence.Notes) < 2 {
				t.Fatalf("incomplete finding: %+v", f)
			}
		})
	}
}

func TestStarvationSinceCoversWholeRun(t *testing.T) {
	w := series(60, func(i int, s *model.Snapshot) {
		if i >= 20 {
			s.Scheduler.ProbeLagP99 = 0.08
			s.Goroutines.Runnable = 40
		}
	})
	fs := NewStarvation(StarvationConfig{}).Detect(w)
	if len(fs) != 1 {
		t.Fatalf("got %d findings, want 1", len(fs))
	}
	want := t0.Add(20 * time.Second).UTC().Format(time.RFC3339)
	if !contains(fs[0].Summary, "since "+want) {
		t.Fatalf("summary %q does not say since %s", fs[0].Summary, want)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestStarvationStretchedInterval(t *testing.T) {
	// Snapshots 6s apart: fewer than MinIntervals fit in Sustain (10s).
	var w model.Window
	for i := range 5 {
		w.Snapshots = append(w.Snapshots, &model.Snapshot{
			Time:       t0.Add(time.Duration(6*i) * time.Second),
			Process:    model.Process{GOMAXPROCS: 2},
			Goroutines: model.Goroutines{Runnable: 30},
			Scheduler:  model.Scheduler{ProbeSamples: 100, ProbeLagP99: 0.2},
		})
	}
	if fs := NewStarvation(StarvationConfig{}).Detect(w); len(fs) != 1 {
		t.Fatalf("got %d findings with a stretched interval, want 1", len(fs))
	}
}

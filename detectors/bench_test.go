package detectors

import (
	"fmt"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/findings"
	"github.com/asyncmon/asyncmon/model"
)

// benchWindow is a 10-minute window at the agent's default 1s interval
// whose group tables hold groups groups each and are refreshed every
// refresh (snapshots in between carry the last table, as the live
// collector's do). Most groups are parked and stable (idle pools), a few
// grow (leaks), a few wait on locks, and the rest churn.
func benchWindow(groups int, refresh time.Duration) model.Window {
	base := make([]model.GoroutineGroup, groups)
	for i := range base {
		site := model.Frame{Func: fmt.Sprintf("example.com/svc.handler%d", i), File: fmt.Sprintf("/src/svc/h%d.go", i%500), Line: i}
		wait := model.WaitChanRecv
		switch {
		case i%100 == 1:
			wait = model.WaitMutex
		case i%10 == 2:
			wait = model.WaitIO
		case i%10 == 3:
			wait = model.WaitSelect
		}
		base[i] = model.GoroutineGroup{
			Key:        fmt.Sprintf("%016x", i*2654435761),
			WaitReason: wait,
			TopFrames:  []model.Frame{site},
			Stack:      []model.Frame{{Func: "runtime.gopark"}, site},
			Count:      1 + i%5,
			SampleIDs:  []int64{int64(10 * i), int64(10*i + 1)},
		}
	}
	var w model.Window
	var table []model.GoroutineGroup
	var tableTime time.Time
	for s := range 600 {
		at := t0.Add(time.Duration(s) * time.Second)
		if table == nil || at.Sub(tableTime) >= refresh {
			table = make([]model.GoroutineGroup, len(base))
			copy(table, base)
			for i := range table {
				switch {
				case i%1000 == 7: // a leak
					table[i].Count = 10 + s/2
				case i%7 == 5: // churn: request goroutines come and go
					table[i].Count = 1 + (s*i)%9
					table[i].SampleIDs = []int64{int64(s*100000 + i)}
				}
			}
			tableTime = at
		}
		w.Snapshots = append(w.Snapshots, &model.Snapshot{
			Seq: uint64(s + 1), Time: at, IntervalSeconds: 1,
			GroupTable: model.GroupTable{Groups: table, GroupsTime: tableTime, GroupsTotal: len(table)},
			Process:    model.Process{GOMAXPROCS: 2, NumCPU: 2},
			Scheduler:  model.Scheduler{LatencyCount: 1000, LatencyP99: 0.0002, ProbeSamples: 200, ProbeLagP99: 0.001},
		})
	}
	return w
}

// BenchmarkDetectorPass is the cost of one pass of each detector, and of
// the engine with all of them, over a 10-minute window at 10k groups.
func BenchmarkDetectorPass(b *testing.B) {
	w := benchWindow(10_000, 10*time.Second)
	for _, d := range append(Defaults(), nil) {
		name := "engine"
		if d != nil {
			name = d.Name()
		}
		b.Run(name, func(b *testing.B) {
			var run func()
			if d == nil {
				e, err := findings.NewEngine(findings.Config{}, Defaults()...)
				if err != nil {
					b.Fatal(err)
				}
				run = func() { e.Run(w) }
			} else {
				run = func() { d.Detect(w) }
			}
			b.ReportAllocs()
			for b.Loop() {
				run()
			}
		})
	}
}

// BenchmarkEngineSmallService is the per-collection cost for a small
// service: 10 minutes of history, 30 groups, tables refreshed every 2s.
func BenchmarkEngineSmallService(b *testing.B) {
	w := benchWindow(30, 2*time.Second)
	e, err := findings.NewEngine(findings.Config{}, Defaults()...)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		e.Run(w)
	}
}

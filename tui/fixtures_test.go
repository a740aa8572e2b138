package tui

import (
	"context"
	"fmt"
	"time"

	"github.com/asyncmon/asyncmon/model"
)

// t0 is the fixed start of the fixture timeline.
var t0 = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

// fixtureSnapshot is snapshot i of a small, fixed timeline: a service with
// a growing group of leaked handler goroutines, some contention and a few
// connections.
func fixtureSnapshot(i int) *model.Snapshot {
	leaked := 1500 + 10*i
	s := &model.Snapshot{
		Seq:             uint64(i + 1),
		Time:            t0.Add(time.Duration(i) * time.Second),
		IntervalSeconds: 1,
		Process: model.Process{PID: 4242, Program: "shopd", GoVersion: "go1.26.0", StartTime: t0.Add(-time.Hour),
			NumCPU: 2, GOMAXPROCS: 2, Threads: 9, FDs: 40, FDLimit: 1024, CPUUtilization: 0.5},
		Scheduler: model.Scheduler{LatencyP50: 20e-6 + float64(i)*1e-6, LatencyP99: 1.5e-3, LatencyMax: 4e-3,
			ProbePeriod: 0.01, ProbeLagP50: 50e-6, ProbeLagP99: 300e-6, ProbeLagMax: 2e-3, PauseMax: 120e-6, PauseCount: 2},
		Goroutines: model.Goroutines{Total: leaked + 40, Running: 2, Runnable: 3, Waiting: leaked + 35, CreatedRate: 12},
		GC:         model.GC{CPUFraction: 0.021, HeapBytes: 12 << 20, GoalBytes: 20 << 20},
		Groups: []model.GoroutineGroup{
			{Key: "leak", WaitReason: model.WaitChanRecv, Count: leaked, Delta: 10, MaxWait: 3 * time.Minute,
				CreatedBy: model.Frame{Func: "net/http.(*Server).Serve", File: "/usr/lib/go/src/net/http/server.go", Line: 3454},
				TopFrames: []model.Frame{{Func: "example.com/shop/api.(*Handler).awaitReply", File: "/src/shop/api/handler.go", Line: 88}},
				Stack: []model.Frame{
					{Func: "runtime.gopark", File: "/usr/lib/go/src/runtime/proc.go", Line: 435},
					{Func: "runtime.chanrecv1", File: "/usr/lib/go/src/runtime/chan.go", Line: 506},
					{Func: "example.com/shop/api.(*Handler).awaitReply", File: "/src/shop/api/handler.go", Line: 88},
					{Func: "example.com/shop/api.(*Handler).ServeHTTP", File: "/src/shop/api/handler.go", Line: 41},
				},
				SampleIDs: []int64{101, 102, 103}, Labels: map[string]string{"route": "/checkout"}},
			{Key: "workers", WaitReason: model.WaitSelect, Count: 32,
				CreatedBy: model.Frame{Func: "example.com/shop/queue.Start", File: "/src/shop/queue/queue.go", Line: 20},
				TopFrames: []model.Frame{{Func: "example.com/shop/queue.(*Pool).worker", File: "/src/shop/queue/queue.go", Line: 57}}},
			{Key: "db", WaitReason: model.WaitIO, Count: 7, Delta: -1,
				CreatedBy: model.Frame{Func: "database/sql.(*DB).connectionOpener", File: "/usr/lib/go/src/database/sql/sql.go", Line: 1250},
				TopFrames: []model.Frame{{Func: "example.com/shop/store.(*Conn).read", File: "/src/shop/store/conn.go", Line: 12}}},
		},
		GroupsTime: t0.Add(time.Duration(i) * time.Second),
		Blocking: model.Blocking{BlockProfileRate: 10000, MutexProfileFraction: 0, WindowSeconds: 10,
			Block: []model.BlockingSite{
				{Site: model.Frame{Func: "example.com/shop/cache.(*LRU).Get", File: "/src/shop/cache/lru.go", Line: 30}, Count: 900, DelaySeconds: 2.5},
				{Site: model.Frame{Func: "example.com/shop/queue.(*Pool).submit", File: "/src/shop/queue/queue.go", Line: 80}, Count: 40, DelaySeconds: 0.3},
			}},
		Connections: model.Connections{
			Open: []model.Conn{
				{ID: 1, Kind: model.ConnClient, Remote: "10.0.0.7:5432", AgeSeconds: 3600, IdleSeconds: 1800,
					OpenSite: model.Frame{Func: "example.com/shop/store.Dial", File: "/src/shop/store/dial.go", Line: 9}},
				{ID: 2, Kind: model.ConnServer, Remote: "192.168.1.20:51000", AgeSeconds: 5, IdleSeconds: 0.5,
					OpenSite: model.Frame{Func: "net/http.(*Server).Serve", File: "/usr/lib/go/src/net/http/server.go", Line: 3400}},
			},
			OpenByKind:  map[string]int{model.ConnClient: 1, model.ConnServer: 1},
			LeakedTotal: map[string]int64{model.ConnHTTPBody: 3},
			Leaks: []model.Conn{{ID: 9, Kind: model.ConnHTTPBody, Remote: "10.0.0.9:443", AgeSeconds: 42, Leaked: true, SiteLeaksTotal: 3,
				OpenSite: model.Frame{Func: "example.com/shop/pay.Charge", File: "/src/shop/pay/charge.go", Line: 77}}},
			Pools: []model.Pool{{Name: "orders-db", Kind: "sql", MaxOpen: 10, Open: 4, InUse: 3, Idle: 1, WaitCountTotal: 12}},
		},
	}
	return s
}

func fixtureFindings() []model.Finding {
	return []model.Finding{
		{ID: "leak/handler", Detector: "goroutine-leak", Level: model.LevelCritical, State: model.StateFiring,
			Title:     "Goroutine leak in api.(*Handler).awaitReply",
			Summary:   "1500 goroutines wait on a channel receive at handler.go:88 and their number grows by 10 a second since 00:00. Check that every request's reply channel is written or closed.",
			Subject:   "/src/shop/api/handler.go:88",
			Evidence:  model.Evidence{Numbers: map[string]float64{"goroutines": 1500, "growth_per_second": 10}, Captures: []string{"cap-1"}, Notes: []string{"the group is 97% of all goroutines"}},
			FirstSeen: t0.Add(-2 * time.Minute), LastSeen: t0},
		{ID: "starve", Detector: "starvation", Level: model.LevelWarning, State: model.StateResolved,
			Title: "Scheduler latency p99 above 10ms", Summary: "resolved", Subject: "process",
			FirstSeen: t0.Add(-10 * time.Minute), LastSeen: t0.Add(-5 * time.Minute), ResolvedAt: t0.Add(-4 * time.Minute)},
	}
}

// fakeSource emits whatever the test sends on its channel.
type fakeSource struct {
	updates chan Update
	saved   chan string
}

func newFakeSource() *fakeSource {
	return &fakeSource{updates: make(chan Update), saved: make(chan string, 10)}
}

func (s *fakeSource) Target() string { return "127.0.0.1:6060" }

func (s *fakeSource) Run(ctx context.Context, emit func(Update)) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case u := <-s.updates:
			emit(u)
		}
	}
}

func (s *fakeSource) SaveCapture(ctx context.Context, id, dir string) (string, error) {
	p := fmt.Sprintf("%s/asyncmon-%s.pb.gz", dir, id)
	s.saved <- p
	return p, nil
}

// liveUpdate is a connected-agent update with the first n fixture
// snapshots and the fixture findings.
func liveUpdate(n int) Update {
	u := Update{Status: &Status{State: StateLive, Mode: "agent"}, Findings: fixtureFindings(), HasFindings: true}
	for i := range n {
		u.Snapshots = append(u.Snapshots, fixtureSnapshot(i))
	}
	return u
}

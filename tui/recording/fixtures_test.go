package recording

import (
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/asyncmon/asyncmon/model"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// t0 is the fixed start of the fixture timeline.
var t0 = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

// fixtureSnapshot is snapshot i of a small fixed timeline, with a group,
// a contention site and a connection, so every section round-trips.
func fixtureSnapshot(i int) *model.Snapshot {
	return &model.Snapshot{
		Seq:             uint64(i + 1),
		Time:            t0.Add(time.Duration(i) * time.Second),
		IntervalSeconds: 1,
		Process:         model.Process{PID: 4242, Program: "shopd", StartTime: t0.Add(-time.Hour)},
		Scheduler:       model.Scheduler{LatencyP50: 20e-6, LatencyP99: 1.5e-3},
		Goroutines:      model.Goroutines{Total: 1540 + 10*i, Waiting: 1535 + 10*i},
		GroupTable: model.GroupTable{
			Groups: []model.GoroutineGroup{{Key: "leak", WaitReason: model.WaitChanRecv, Count: 1500 + 10*i, Delta: 10,
				MaxWait:   3 * time.Minute,
				CreatedBy: model.Frame{Func: "net/http.(*Server).Serve", File: "/usr/lib/go/src/net/http/server.go", Line: 3454},
				TopFrames: []model.Frame{{Func: "example.com/shop/api.(*Handler).awaitReply", File: "/src/shop/api/handler.go", Line: 88}},
				SampleIDs: []int64{101, 102}, Labels: map[string]string{"route": "/checkout"}}},
			GroupsTime: t0.Add(time.Duration(i) * time.Second),
		},
		Blocking: model.Blocking{BlockProfileRate: 10000, Block: []model.BlockingSite{
			{Site: model.Frame{Func: "example.com/shop/cache.(*LRU).Get", File: "/src/shop/cache/lru.go", Line: 30}, Count: 900, DelaySeconds: 2.5}}},
		Connections: model.Connections{Open: []model.Conn{{ID: 1, Kind: model.ConnClient, Remote: "10.0.0.7:5432", AgeSeconds: 3600}},
			OpenByKind: map[string]int{model.ConnClient: 1}},
	}
}

func fixtureFindings() []model.Finding {
	return []model.Finding{
		{ID: "leak/handler", Detector: "goroutine-leak", Level: model.LevelCritical, State: model.StateFiring,
			Title: "Goroutine leak in api.(*Handler).awaitReply", Summary: "1500 goroutines wait at handler.go:88.",
			Subject:   "/src/shop/api/handler.go:88",
			Evidence:  model.Evidence{Numbers: map[string]float64{"goroutines": 1500}, Captures: []string{"cap-1"}},
			FirstSeen: t0.Add(-2 * time.Minute), LastSeen: t0},
		{ID: "starve", Detector: "starvation", Level: model.LevelWarning, State: model.StateResolved,
			Title: "Scheduler latency p99 above 10ms", Subject: "process",
			FirstSeen: t0.Add(-10 * time.Minute), LastSeen: t0.Add(-5 * time.Minute), ResolvedAt: t0.Add(-4 * time.Minute)},
	}
}

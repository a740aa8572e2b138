package goroutines

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/collectors/dump"
	"github.com/asyncmon/asyncmon/model"
)

// mk builds a goroutine parked at user function fn, started by start.
func mk(id int64, wait, fn string, line int, labels map[string]string) model.Goroutine {
	return model.Goroutine{
		ID: id, State: wait, WaitReason: dump.NormalizeWaitReason(wait), Labels: labels,
		Frames: []model.Frame{
			{Func: "runtime.gopark", File: "runtime/proc.go", Line: 1},
			{Func: fn, File: "app/x.go", Line: line},
			{Func: "app.start", File: "app/x.go", Line: 100},
		},
		CreatedBy: model.Frame{Func: "app.main", File: "app/main.go", Line: 7},
	}
}

func TestGrouper(t *testing.T) {
	var gs []model.Goroutine
	for i := range 5 {
		gs = append(gs, mk(int64(i+1), "chan receive", "app.recv", 10, map[string]string{"route": "/a", "req": fmt.Sprint(i)}))
	}
	for i := range 3 {
		g := mk(int64(100+i), "sync.Mutex.Lock", "app.lock", 20, nil)
		g.Wait = time.Duration(i) * time.Minute
		gs = append(gs, g)
	}
	gr := NewGrouper(GroupOptions{})
	tb := gr.Group(gs)
	if tb.Total != 2 || tb.Goroutines != 8 || len(tb.Groups) != 2 || tb.Truncated {
		t.Fatalf("table: total %d, goroutines %d, rows %d, truncated %t", tb.Total, tb.Goroutines, len(tb.Groups), tb.Truncated)
	}
	recv, lock := tb.Groups[0], tb.Groups[1]
	if recv.Count != 5 || recv.WaitReason != model.WaitChanRecv || recv.Site().Func != "app.recv" || recv.Delta != 5 {
		t.Errorf("recv group: %+v", recv)
	}
	if len(recv.SampleIDs) != defaultSamples {
		t.Errorf("sample IDs %v, want %d", recv.SampleIDs, defaultSamples)
	}
	if len(recv.Labels) != 1 || recv.Labels["route"] != "/a" {
		t.Errorf("shared labels = %v, want only route=/a", recv.Labels)
	}
	if lock.MaxWait != 2*time.Minute || lock.WaitReason != model.WaitMutex || lock.CreatedBy.Func != "app.main" || lock.Start.Func != "app.start" {
		t.Errorf("lock group: %+v", lock)
	}
	if tb.ByWaitReason[model.WaitChanRecv] != 5 || tb.ByWaitReason[model.WaitMutex] != 3 {
		t.Errorf("by wait reason: %v", tb.ByWaitReason)
	}
	// Same keys next time; deltas against the previous table.
	tb2 := gr.Group(gs[:6])
	for _, g := range tb2.Groups {
		switch g.Key {
		case recv.Key:
			if g.Delta != 0 {
				t.Errorf("recv delta = %d, want 0", g.Delta)
			}
		case lock.Key:
			if g.Count != 1 || g.Delta != -2 {
				t.Errorf("lock: count %d delta %d, want 1 and -2", g.Count, g.Delta)
			}
		default:
			t.Errorf("unexpected key %s", g.Key)
		}
	}
	// Labels in the key split the receivers.
	tb3 := NewGrouper(GroupOptions{Key: DefaultGroupKey | KeyLabels}).Group(gs)
	if tb3.Total != 6 {
		t.Errorf("with labels in the key: %d groups, want 6", tb3.Total)
	}
	// Without the top frames and wait reason, everything started at one
	// place is one group.
	tb4 := NewGrouper(GroupOptions{Key: KeyCreatedBy}).Group(gs)
	if tb4.Total != 1 || tb4.Groups[0].Count != 8 {
		t.Errorf("creator-only key: %d groups", tb4.Total)
	}
}

func TestGrouperBounds(t *testing.T) {
	var gs []model.Goroutine
	for i := range 50 {
		gs = append(gs, mk(int64(i+1), "select", fmt.Sprintf("app.f%d", i), i, nil))
	}
	tb := NewGrouper(GroupOptions{MaxGroups: 5, MaxTracked: 10}).Group(gs)
	if len(tb.Groups) != 5 || !tb.Truncated {
		t.Errorf("rows %d truncated %t, want 5 and true", len(tb.Groups), tb.Truncated)
	}
	// 10 tracked groups plus one overflow group for the wait reason.
	if tb.Total != 11 || tb.Groups[0].Count != 40 || len(tb.Groups[0].TopFrames) != 0 {
		t.Errorf("total %d, largest %+v; want 11 groups and an overflow group of 40", tb.Total, tb.Groups[0])
	}
}

func TestSortGroups(t *testing.T) {
	gs := []model.GoroutineGroup{
		{Key: "a", Count: 1, Delta: 5, MaxWait: time.Minute, TopFrames: []model.Frame{{Func: "f", File: "b.go", Line: 1}}},
		{Key: "b", Count: 3, Delta: -1, TopFrames: []model.Frame{{Func: "g", File: "a.go", Line: 2}}},
	}
	for _, tt := range []struct {
		by    string
		desc  bool
		first string
	}{
		{SortCount, true, "b"}, {SortCount, false, "a"}, {SortDelta, true, "a"},
		{SortWait, true, "a"}, {SortSite, false, "b"},
	} {
		if !SortGroups(gs, tt.by, tt.desc) || gs[0].Key != tt.first {
			t.Errorf("sort %s desc=%t: first %s, want %s", tt.by, tt.desc, gs[0].Key, tt.first)
		}
	}
	if SortGroups(gs, "bogus", true) {
		t.Error("unknown order accepted")
	}
}

// BenchmarkGroup groups 100k goroutines that share a few sites, and 100k
// that are all different (the worst case MaxTracked bounds).
func BenchmarkGroup(b *testing.B) {
	for _, tt := range []struct {
		distinct    int
		interleaved bool
	}{{10, false}, {10, true}, {100000, false}} {
		gs := make([]model.Goroutine, 100000)
		fns := make([]string, tt.distinct)
		for i := range fns {
			fns[i] = fmt.Sprintf("app.f%d", i)
		}
		for i := range gs {
			// As in a dump: goroutines started together come together,
			// with interned strings; or interleaved, the worst order.
			site := i / (len(gs) / tt.distinct)
			if tt.interleaved {
				site = i % tt.distinct
			}
			gs[i] = mk(int64(i+1), "chan receive", fns[site], site, nil)
		}
		name := fmt.Sprintf("goroutines=100000/sites=%d", tt.distinct)
		if tt.interleaved {
			name += ",interleaved"
		}
		b.Run(name, func(b *testing.B) {
			gr := NewGrouper(GroupOptions{})
			b.ReportAllocs()
			for b.Loop() {
				t := gr.Group(gs)
				if t.Goroutines != len(gs) {
					b.Fatal(t.Goroutines)
				}
			}
		})
	}
}

func TestGroupRecordsNamesStacklessRecords(t *testing.T) {
	gr := NewGrouper(GroupOptions{})
	tab := gr.GroupRecords([]dump.ProfileRecord{
		{Count: 3, Goroutine: model.Goroutine{WaitReason: model.WaitOther}},
		{Count: 2, Goroutine: model.Goroutine{WaitReason: model.WaitChanRecv, Frames: []model.Frame{{Func: "main.worker", File: "/m.go", Line: 3}}}},
	})
	var found bool
	for _, g := range tab.Groups {
		if g.Count == 3 {
			found = true
			if g.Site().Func != NoStackFunc {
				t.Errorf("stackless group site %+v, want %s", g.Site(), NoStackFunc)
			}
		}
	}
	if !found {
		t.Fatalf("no group of the 3 stackless goroutines: %+v", tab.Groups)
	}
}

// FuzzGroupDump groups whatever the parser makes of real dumps and
// mutations of them: grouping must never panic.
func FuzzGroupDump(f *testing.F) {
	files, err := filepath.Glob("../dump/testdata/dumps/*.txt")
	if err != nil {
		f.Fatal(err)
	}
	for _, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[:min(len(b), 16<<10)])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, _ := dump.Parse(bytes.NewReader(b))
		if d == nil {
			t.Fatal("nil dump")
		}
		GroupDump(d, GroupOptions{})
	})
}

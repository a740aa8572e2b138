package goroutines

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/collectors/dump"
	"github.com/asyncmon/asyncmon/internal/cputime"
	"github.com/asyncmon/asyncmon/internal/workload"
	"github.com/asyncmon/asyncmon/model"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// acceptance is the workload of the acceptance test.
var acceptance = workload.Counts{Recv: 500, Mutex: 100, Sleep: 50, SleepFor: 5 * time.Second}

// wantGroups are the groups acceptance must produce: top user function,
// wait reason and count.
var wantGroups = []struct {
	fn, wait string
	n        int
}{
	{workload.ReceiverFunc, model.WaitChanRecv, 500},
	{workload.LockerFunc, model.WaitMutex, 100},
	{workload.SleeperFunc, model.WaitSleep, 50},
}

// checkGroups returns why groups do not hold exactly wantGroups for the
// workload's sites, or "" when they do.
func checkGroups(groups []model.GoroutineGroup) string {
	var msgs []string
	for _, w := range wantGroups {
		var found []model.GoroutineGroup
		for _, g := range groups {
			if len(g.TopFrames) > 0 && g.TopFrames[0].Func == w.fn {
				found = append(found, g)
			}
		}
		switch {
		case len(found) != 1:
			var desc []string
			for _, g := range found {
				desc = append(desc, fmt.Sprintf("%d×%s", g.Count, g.WaitReason))
			}
			msgs = append(msgs, fmt.Sprintf("%s: %d groups %v, want 1", w.fn, len(found), desc))
		case found[0].Count != w.n || found[0].WaitReason != w.wait:
			msgs = append(msgs, fmt.Sprintf("%s: %d × %q, want %d × %q", w.fn, found[0].Count, found[0].WaitReason, w.n, w.wait))
		}
	}
	return strings.Join(msgs, "; ")
}

// pollGroups calls table until checkGroups passes or the deadline.
func pollGroups(t *testing.T, table func() ([]model.GoroutineGroup, error)) []model.GoroutineGroup {
	t.Helper()
	deadline := time.Now().Add(4 * time.Second)
	for {
		gs, err := table()
		if err != nil {
			t.Fatal(err)
		}
		msg := checkGroups(gs)
		if msg == "" {
			return gs
		}
		if time.Now().After(deadline) {
			t.Fatalf("groups never matched: %s", msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestGoroutinesLiveAcceptance(t *testing.T) {
	w := workload.Start(acceptance)
	defer w.Stop()
	c := NewCollector(Options{})
	ctx := context.Background()
	t.Run("live", func(t *testing.T) {
		gs := pollGroups(t, func() ([]model.GoroutineGroup, error) {
			tb, err := c.Refresh(ctx)
			if err != nil {
				return nil, err
			}
			return tb.Groups, nil
		})
		st := c.Stats()
		if st.Source != "profile" {
			t.Errorf("source = %q, want profile at %d goroutines", st.Source, 650)
		}
		for _, g := range gs {
			if g.Start.IsZero() {
				t.Errorf("group %s has no start function", g.Key)
			}
		}
		// Collect fills the snapshot from the table.
		var s model.Snapshot
		if err := c.Collect(ctx, &s); err != nil {
			t.Fatal(err)
		}
		if msg := checkGroups(s.Groups); msg != "" {
			t.Errorf("snapshot: %s", msg)
		}
		if s.GroupsSource != "profile" || s.GroupsCostSeconds <= 0 {
			t.Errorf("snapshot: source %q, cost %v", s.GroupsSource, s.GroupsCostSeconds)
		}
		if s.GroupsTime.IsZero() || s.ByWaitReason[model.WaitChanRecv] < 500 {
			t.Errorf("snapshot: groups time %v, by wait reason %v", s.GroupsTime, s.ByWaitReason)
		}
	})
	t.Run("dump", func(t *testing.T) {
		pollGroups(t, func() ([]model.GoroutineGroup, error) {
			var b bytes.Buffer
			if err := pprof.Lookup("goroutine").WriteTo(&b, 2); err != nil {
				return nil, err
			}
			d, err := dump.Parse(&b)
			if err != nil {
				return nil, err
			}
			return GroupDump(d, GroupOptions{}).Groups, nil
		})
	})
}

func TestGoroutinesBudget(t *testing.T) {
	c := NewCollector(Options{CPUBudget: 0.01, MinInterval: time.Millisecond})
	var s model.Snapshot
	if err := c.Collect(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	st := c.Stats()
	if st.Refreshes != 1 {
		t.Fatalf("refreshes = %d, want 1", st.Refreshes)
	}
	// The next refresh waits 100 times the CPU cost of this one (at most
	// settleInterval, this being the first).
	if want := min(max(time.Duration(float64(st.LastCPU)/0.01), time.Millisecond), settleInterval); st.Interval != want {
		t.Errorf("interval = %v, want %v (cost %v, CPU %v)", st.Interval, want, st.LastCost, st.LastCPU)
	}
	if cputime.PerThread && st.LastCPU > st.LastCost+time.Millisecond {
		t.Errorf("CPU cost %v, want at most the wall time %v: one thread cannot use more", st.LastCPU, st.LastCost)
	}
	// A collection right away reuses the table.
	if err := c.Collect(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	if got := c.Stats().Refreshes; got != 1 && st.Interval > 10*time.Millisecond {
		t.Errorf("refreshes = %d after an immediate second collection, want 1", got)
	}
	if s.GroupsTime.IsZero() {
		t.Error("reused table has no time")
	}
}

func TestGoroutinesSmallCountUsesDump(t *testing.T) {
	// With a generous pause allowance, a test process is small enough
	// for a full dump: the table then has IDs and creation sites.
	c := NewCollector(Options{MaxPause: time.Hour})
	tb, err := c.Refresh(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c.Stats().Source != "dump" {
		t.Fatalf("source = %q, want dump", c.Stats().Source)
	}
	var ids, creators int
	for _, g := range tb.Groups {
		if len(g.SampleIDs) > 0 {
			ids++
		}
		if !g.CreatedBy.IsZero() {
			creators++
		}
	}
	if ids == 0 || creators == 0 {
		t.Errorf("dump-based table: %d groups with IDs, %d with creators, want some", ids, creators)
	}
	// Never when told not to.
	c = NewCollector(Options{MaxPause: -1})
	if _, err := c.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c.Stats().Source != "profile" {
		t.Errorf("source = %q with MaxPause < 0, want profile", c.Stats().Source)
	}
}

func TestGoroutinesDumpRateLimited(t *testing.T) {
	c := NewCollector(Options{DumpInterval: time.Hour})
	d, err := c.Dump(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Goroutines) == 0 {
		t.Fatal("empty dump")
	}
	if _, err := c.Dump(context.Background()); !errors.Is(err, ErrRateLimited) {
		t.Errorf("second dump: err = %v, want ErrRateLimited", err)
	}
}

func TestGoroutinesDelta(t *testing.T) {
	c := NewCollector(Options{})
	ctx := context.Background()
	if _, err := c.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	w := workload.Start(workload.Counts{Recv: 30})
	defer w.Stop()
	deadline := time.Now().Add(4 * time.Second)
	for {
		tb, err := c.Refresh(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var g *model.GoroutineGroup
		for i := range tb.Groups {
			if tb.Groups[i].Site().Func == workload.ReceiverFunc {
				g = &tb.Groups[i]
			}
		}
		if g != nil && g.Count == 30 {
			// The previous refresh may have seen some of them.
			if g.Delta <= 0 || g.Delta > 30 {
				t.Errorf("delta = %d, want in (0, 30]", g.Delta)
			}
			tb, err = c.Refresh(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range tb.Groups {
				if g.Site().Func == workload.ReceiverFunc && g.Delta != 0 {
					t.Errorf("unchanged group: delta = %d, want 0", g.Delta)
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("receivers never showed up")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestWriteDump(t *testing.T) {
	w := workload.Start(workload.Counts{Recv: 20})
	defer w.Stop()
	deadline := time.Now().Add(4 * time.Second)
	for {
		var b bytes.Buffer
		if err := WriteDump(&b); err != nil {
			t.Fatal(err)
		}
		d, err := dump.Parse(&b)
		if err != nil {
			t.Fatal(err)
		}
		if siteCount(d.Goroutines)[workload.ReceiverFunc+" "+model.WaitChanRecv] == 20 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the 20 receivers are not in the dump")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// siteCount counts goroutines by top frame and wait reason.
func siteCount(gs []model.Goroutine) map[string]int {
	m := make(map[string]int)
	for i := range gs {
		var top [1]model.Frame
		dump.TopFrames(gs[i].Frames, top[:])
		m[top[0].Func+" "+gs[i].WaitReason]++
	}
	return m
}

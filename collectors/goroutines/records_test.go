package goroutines

import (
	"context"
	"fmt"
	"maps"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/internal/workload"
	"github.com/asyncmon/asyncmon/model"
)

const (
	parkRouteAFunc = "github.com/asyncmon/asyncmon/collectors/goroutines.parkRouteA"
	parkRouteBFunc = "github.com/asyncmon/asyncmon/collectors/goroutines.parkRouteB"
)

//go:noinline
func parkRouteA(release <-chan struct{}) { <-release }

//go:noinline
func parkRouteB(mu *sync.Mutex) {
	mu.Lock()
	defer mu.Unlock()
}

// labelledWorkload parks goroutines under pprof labels: 300 in parkRouteA
// with route=/a, started by three pprof.Do calls (three label sets of
// equal content at distinct addresses, as three requests of one route
// have); 50 in parkRouteB blocked on a mutex with route=/b, tenant=x;
// 20 more in parkRouteA under an empty label set. It returns the
// function that releases and joins them.
func labelledWorkload() (stop func()) {
	release := make(chan struct{})
	var mu sync.Mutex
	mu.Lock()
	var wg sync.WaitGroup
	for range 3 {
		pprof.Do(context.Background(), pprof.Labels("route", "/a"), func(context.Context) {
			for range 100 {
				wg.Go(func() { parkRouteA(release) })
			}
		})
	}
	pprof.Do(context.Background(), pprof.Labels("route", "/b", "tenant", "x"), func(context.Context) {
		for range 50 {
			wg.Go(func() { parkRouteB(&mu) })
		}
	})
	pprof.Do(context.Background(), pprof.Labels(), func(context.Context) {
		for range 20 {
			wg.Go(func() { parkRouteA(release) })
		}
	})
	return func() { close(release); mu.Unlock(); wg.Wait() }
}

// ours returns the groups of the test's sites, by key.
func ours(tb *GroupTable) map[string]model.GoroutineGroup {
	m := make(map[string]model.GoroutineGroup)
	for _, g := range tb.Groups {
		if len(g.TopFrames) == 0 {
			continue
		}
		switch g.TopFrames[0].Func {
		case parkRouteAFunc, parkRouteBFunc, workload.ReceiverFunc, workload.LockerFunc:
			m[g.Key] = g
		}
	}
	return m
}

func sameGroups(a, b model.GoroutineGroup) bool {
	return a.Count == b.Count && a.WaitReason == b.WaitReason && a.Start == b.Start &&
		slices.Equal(a.TopFrames, b.TopFrames) && slices.Equal(a.Stack, b.Stack) &&
		a.Leaked == b.Leaked && maps.Equal(a.Labels, b.Labels)
}

// TestRecordsMatchText holds the profile read as records to the table
// that pprof's debug=1 text gives: same groups, counts, wait reasons,
// stacks and labels, with the key on labels and without.
func TestRecordsMatchText(t *testing.T) {
	if !haveRecords {
		t.Skipf("%s reads the goroutine profile as text only", runtime.Version())
	}
	w := workload.Start(workload.Counts{Recv: 200, Mutex: 40})
	defer w.Stop()
	stop := labelledWorkload()
	defer stop()
	keys := map[string]GroupKey{
		"default": 0,
		"labels":  KeyStart | KeyWaitReason | KeyTopFrames | KeyLabels,
	}
	for name, key := range keys {
		t.Run(name, func(t *testing.T) {
			rec := NewCollector(Options{MaxPause: -1, Group: GroupOptions{Key: key}})
			text := NewCollector(Options{MaxPause: -1, Group: GroupOptions{Key: key}})
			text.textProfile = true
			// Goroutines park a moment after they start: poll until
			// both paths see the same groups.
			deadline := time.Now().Add(5 * time.Second)
			for {
				rt, err := rec.Refresh(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				tt, err := text.Refresh(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				got, want := ours(rt), ours(tt)
				same := len(got) == len(want) && checkLabelled(got) == ""
				for k, g := range want {
					same = same && sameGroups(got[k], g)
				}
				if same {
					return
				}
				if time.Now().After(deadline) {
					for k, g := range want {
						if !sameGroups(got[k], g) {
							t.Errorf("group %s:\nrecords %+v\ntext    %+v", k, got[k], g)
						}
					}
					for k := range got {
						if _, ok := want[k]; !ok {
							t.Errorf("group %s only from records: %+v", k, got[k])
						}
					}
					if msg := checkLabelled(got); msg != "" {
						t.Error(msg)
					}
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

// checkLabelled returns what is wrong with the labelled groups of
// labelledWorkload in gs, or "".
func checkLabelled(gs map[string]model.GoroutineGroup) string {
	var a, a0, b, recv int
	for _, g := range gs {
		switch g.TopFrames[0].Func {
		case parkRouteAFunc:
			switch {
			case maps.Equal(g.Labels, map[string]string{"route": "/a"}):
				a += g.Count
			case len(g.Labels) == 0:
				a0 += g.Count
			}
		case parkRouteBFunc:
			if maps.Equal(g.Labels, map[string]string{"route": "/b", "tenant": "x"}) && g.WaitReason == model.WaitMutex {
				b += g.Count
			}
		case workload.ReceiverFunc:
			if len(g.Labels) == 0 && g.WaitReason == model.WaitChanRecv {
				recv += g.Count
			}
		}
	}
	// The three route=/a sets, equal in content, make one group (and
	// one start function: a group's labels are those all members share).
	want := [4]int{300, 20, 50, 200}
	if got := [4]int{a, a0, b, recv}; got != want {
		return fmt.Sprintf("route=/a, unlabelled parkRouteA, route=/b, receivers: got %v, want %v", got, want)
	}
	return ""
}

// TestRecordsAllocateLessThanText checks the point of reading records:
// one refresh at 10k goroutines allocates less than half what the text
// path does (pprof formats a key string per goroutine, then the text is
// parsed back). Allocation is counted, not timed.
func TestRecordsAllocateLessThanText(t *testing.T) {
	if !haveRecords {
		t.Skipf("%s reads the goroutine profile as text only", runtime.Version())
	}
	w := workload.Start(workload.Counts{Recv: 10000})
	defer w.Stop()
	allocated := func(text bool) uint64 {
		c := NewCollector(Options{MaxPause: -1})
		c.textProfile = text
		if _, err := c.Refresh(context.Background()); err != nil { // warm the symbol cache
			t.Fatal(err)
		}
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		if _, err := c.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&m1)
		return m1.TotalAlloc - m0.TotalAlloc
	}
	text, rec := allocated(true), allocated(false)
	t.Logf("one refresh at 10k goroutines: text %d B, records %d B", text, rec)
	if rec*2 > text {
		t.Errorf("records path allocated %d B, text path %d B: want less than half", rec, text)
	}
}

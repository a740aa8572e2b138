package tui

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"github.com/asyncmon/asyncmon/model"
)

func TestOverviewOn80x24(t *testing.T) {
	src := newFakeSource()
	h := startUI(t, src, 80, 24)
	h.waitFor("1 Overview", "2 Goroutines", "5 Findings", "connecting")
	src.updates <- liveUpdate(30)
	s := h.waitFor("1 firing finding", "Goroutine leak in api.(*Handler).awaitReply",
		"sched latency p99", "probe lag p99", "goroutines", "GC CPU", "STW pause max",
		"live", "127.0.0.1:6060", "shopd pid 4242", "data 0s old", "5 Findings (1)")
	rows := h.screen()
	if len(rows) != 24 || len([]rune(rows[0])) != 80 {
		t.Fatalf("got %d rows of %d columns, want 24 of 80", len(rows), len([]rune(rows[0])))
	}
	if !strings.Contains(s, "1.50ms") {
		t.Errorf("overview lacks the p99 latency 1.50ms:\n%s", s)
	}
	// The status line is the last row.
	if !strings.Contains(rows[23], "live") {
		t.Errorf("last row = %q, want the status line", rows[23])
	}
}

func TestOverviewWide(t *testing.T) {
	src := newFakeSource()
	h := startUI(t, src, 200, 50)
	src.updates <- liveUpdate(30)
	s := h.waitFor("sched latency p50", "over the last 29s (30 samples)")
	// On a wide screen the sparkline gets one column per sample.
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, "sched latency p50") {
			if n := strings.Count(line, "▁") + strings.Count(line, "█") + strings.Count(line, "▇") +
				strings.Count(line, "▆") + strings.Count(line, "▅") + strings.Count(line, "▄") +
				strings.Count(line, "▃") + strings.Count(line, "▂"); n != 30 {
				t.Errorf("p50 sparkline has %d blocks, want 30: %q", n, line)
			}
		}
	}
}

func TestGoroutinesTableFilterAndDetail(t *testing.T) {
	src := newFakeSource()
	h := startUI(t, src, 100, 30)
	src.updates <- liveUpdate(3)
	h.waitFor("live")
	h.keys("2")
	h.waitFor("COUNT↓", "STATE", "PARKED IN", "CREATED BY", "1520", "+10", "chan receive",
		"api.(*Handler).awaitReply", "handler.go:88", "3 groups, 1559 goroutines")

	// Sort by the next column (Δ), then reverse.
	h.keys(">")
	h.waitFor("Δ↓", "sorted by Δ ↓")
	h.keys("<")
	h.waitFor("COUNT↓")

	// Filter by file name.
	h.keys("/queue.go")
	s := h.waitFor("filter \"queue.go\": 1 groups", "queue.(*Pool).worker")
	if strings.Contains(s, "awaitReply") {
		t.Errorf("filter left a non-matching group:\n%s", s)
	}
	h.key(tcell.KeyEnter)
	// By wait reason.
	h.keys("/")
	for range len("queue.go") {
		h.key(tcell.KeyBackspace2)
	}
	h.keys("io wait")
	h.waitFor("filter \"io wait\": 1 groups", "store.(*Conn).read")
	h.key(tcell.KeyEnter) // back to the table, the filter stays
	h.waitFor("filter (/ edits, Esc clears): io wait")
	h.key(tcell.KeyEscape) // Esc in the table clears it
	h.waitGone("Esc clears")
	// The selection stays on the row it was on.
	h.waitFor("3 groups")
	h.key(tcell.KeyHome)

	// Open the leak group: full stack, creator, samples, wait.
	h.key(tcell.KeyEnter)
	h.waitFor("1520 goroutines", "(+10 since the last sample)", "created by",
		"net/http.(*Server).Serve", "goroutine 101, 102, 103", "runtime.chanrecv1",
		"/src/shop/api/handler.go:41", "route=/checkout", "longest wait 3m00s")
	// A new sample updates the open group.
	src.updates <- Update{Snapshots: []*model.Snapshot{fixtureSnapshot(3)}}
	h.waitFor("1530 goroutines")
	h.key(tcell.KeyEscape)
	h.waitFor("COUNT↓", "1530")
}

func TestBlockingView(t *testing.T) {
	src := newFakeSource()
	h := startUI(t, src, 100, 30)
	src.updates <- liveUpdate(1)
	h.waitFor("live")
	h.keys("b")
	h.waitFor("block sites", "DELAY↓", "EVENTS", "cache.(*LRU).Get", "lru.go:30", "2.50s",
		"the mutex profile is off")
}

func TestConnectionsView(t *testing.T) {
	src := newFakeSource()
	h := startUI(t, src, 100, 30)
	src.updates <- liveUpdate(1)
	h.waitFor("live")
	h.keys("4")
	s := h.waitFor("AGE↓", "IDLE", "10.0.0.7:5432", "2 open", "orders-db", "pools",
		"3 leaked since start", "recent definite leaks", "pay.Charge charge.go:77")
	// Sorted by age, oldest first.
	if strings.Index(s, "10.0.0.7:5432") > strings.Index(s, "192.168.1.20") {
		t.Errorf("oldest connection is not first:\n%s", s)
	}
	h.keys(">")
	h.waitFor("IDLE↓")
	h.keys("r")
	s = h.waitFor("IDLE↑")
	if strings.Index(s, "10.0.0.7:5432") < strings.Index(s, "192.168.1.20") {
		t.Errorf("least idle connection is not first after reverse:\n%s", s)
	}
}

func TestFindingsListDetailAndSave(t *testing.T) {
	src := newFakeSource()
	h := startUI(t, src, 100, 30)
	src.updates <- liveUpdate(1)
	h.waitFor("live")
	h.keys("f")
	s := h.waitFor("2 findings, 1 firing", "Goroutine leak in api.(*Handler).awaitReply", "Scheduler latency p99 above 10ms", "critical", "resolved")
	if strings.Index(s, "Goroutine leak") > strings.Index(s, "Scheduler latency") {
		t.Errorf("firing finding is not first:\n%s", s)
	}
	h.key(tcell.KeyEnter)
	h.waitFor("1500 goroutines wait on a channel receive", "growth_per_second", "cap-1", "the group is 97% of all goroutines",
		"critical firing from goroutine-leak")
	h.keys("s")
	select {
	case p := <-src.saved:
		if !strings.HasSuffix(p, "asyncmon-cap-1.pb.gz") {
			t.Errorf("saved %q", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("capture not saved")
	}
	h.waitFor("saved ")
	h.key(tcell.KeyEscape)
	h.waitFor("2 findings, 1 firing")
}

func TestDisconnectedStatus(t *testing.T) {
	src := newFakeSource()
	h := startUI(t, src, 80, 24)
	src.updates <- liveUpdate(2)
	h.waitFor("live")
	src.updates <- Update{Status: &Status{State: StateDisconnected, Err: "connection refused", RetryAt: fixedNow().Add(2 * time.Second), Mode: "agent"}}
	s := h.waitFor("disconnected — retrying in 2s", "connection refused")
	// The last data is still shown, and labelled by its age.
	if !strings.Contains(s, "shopd pid 4242") {
		t.Errorf("lost the last data on disconnect:\n%s", s)
	}
	src.updates <- Update{Status: &Status{State: StateLive, Mode: "agent"}, Snapshots: []*model.Snapshot{fixtureSnapshot(2)}}
	h.waitGone("disconnected")
	h.waitFor("live")
}

func TestPauseFreezesTheDisplay(t *testing.T) {
	src := newFakeSource()
	h := startUI(t, src, 100, 30)
	src.updates <- liveUpdate(1)
	h.keys("2")
	h.waitFor("1500")
	h.keys(" ")
	h.waitFor("PAUSED")
	src.updates <- Update{Snapshots: []*model.Snapshot{fixtureSnapshot(1)}}
	// The status still changes while paused, the table does not.
	src.updates <- Update{Status: &Status{State: StateDisconnected, Err: "EOF"}}
	s := h.waitFor("disconnected")
	if strings.Contains(s, "1510") || !strings.Contains(s, "1500") {
		t.Errorf("paused table changed:\n%s", s)
	}
	h.keys(" ")
	h.waitGone("PAUSED")
	h.waitFor("1510")
}

func TestUnavailableViewsSayWhy(t *testing.T) {
	src := newFakeSource()
	h := startUI(t, src, 100, 30)
	snap := fixtureSnapshot(0)
	snap.Connections = model.Connections{}
	src.updates <- Update{Snapshots: []*model.Snapshot{snap}, Status: &Status{State: StateLive, Mode: "pprof only",
		Unavailable: map[View]string{ViewConnections: "connections need the asyncmon agent; this target serves only net/http/pprof"}}}
	h.waitFor("pprof only")
	h.keys("c")
	h.waitFor("connections need the asyncmon agent")
}

func TestHelpOverlay(t *testing.T) {
	src := newFakeSource()
	h := startUI(t, src, 80, 24)
	h.keys("?")
	h.waitFor("help — ? or Esc closes", "space  pause or resume")
	h.key(tcell.KeyEscape)
	h.waitGone("space  pause or resume")
}

func TestQuitReturnsNil(t *testing.T) {
	src := newFakeSource()
	h := startUI(t, src, 80, 24)
	src.updates <- liveUpdate(1)
	h.waitFor("live")
	h.keys("q")
	select {
	case err := <-h.done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
		h.done <- nil // for the cleanup
	case <-time.After(5 * time.Second):
		t.Fatal("q did not quit")
	}
}

// TestStatusAgesData: the age of data counts up from its arrival, turns
// red once stale, and while paused is the age of what is on screen.
func TestStatusAgesData(t *testing.T) {
	var offset atomic.Int64 // seconds after fixedNow
	now := func() time.Time { return fixedNow().Add(time.Duration(offset.Load()) * time.Second) }
	src := newFakeSource()
	h := startUIClock(t, src, 100, 30, now)
	src.updates <- liveUpdate(1)
	h.waitFor("data 0s old")
	offset.Store(7)
	h.waitFor("data 7s old") // the ticker redraws the status every second
	h.keys(" ")
	h.waitFor("PAUSED")
	src.updates <- Update{Snapshots: []*model.Snapshot{fixtureSnapshot(1)},
		Status: &Status{State: StateLive, Mode: "agent", Note: "second sample"}}
	h.waitFor("second sample") // arrived at 7s: the status shows while paused
	offset.Store(9)
	h.waitFor("data 9s old") // the frozen data, not the one that just came
	h.keys(" ")
	h.waitFor("data 2s old")
}

// TestTinyTerminals draws every view, the help and a group's details on
// terminals far too small for them: nothing may panic or hang.
func TestTinyTerminals(t *testing.T) {
	for _, size := range []struct{ w, h int }{{20, 6}, {40, 10}, {1, 1}} {
		t.Run(fmt.Sprintf("%dx%d", size.w, size.h), func(t *testing.T) {
			src := newFakeSource()
			h := startUI(t, src, size.w, size.h)
			src.updates <- liveUpdate(5)
			for _, k := range []string{"1", "2", "3", "4", "5", "?", "?", "2"} {
				h.keys(k)
			}
			h.key(tcell.KeyEnter)
			h.keys("5")
			h.key(tcell.KeyEnter)
			h.screen() // the UI goroutine is alive and drew
		})
	}
}

// TestASCIITerminal: on a terminal that cannot show the UI's symbols,
// they fall back to ASCII that keeps their meaning.
func TestASCIITerminal(t *testing.T) {
	src := newFakeSource()
	h := startUIOn(t, src, 100, 30, fixedNow, tcell.NewSimulationScreen("US-ASCII"))
	src.updates <- liveUpdate(30)
	s := h.waitFor("sched latency p99", "* Goroutine leak")
	if strings.ContainsAny(s, "▁▂▃▄▅▆▇█●") {
		t.Errorf("non-ASCII symbols on an ASCII terminal:\n%s", s)
	}
	if !strings.Contains(s, "___") {
		t.Errorf("no ASCII sparkline:\n%s", s)
	}
}

// fakePlayer is a Player source: the test sees its pause and step calls.
type fakePlayer struct {
	*fakeSource
	paused atomic.Bool
	steps  chan struct{}
	pauses chan bool
}

func (p *fakePlayer) SetPaused(b bool) { p.paused.Store(b); p.pauses <- b }
func (p *fakePlayer) Paused() bool     { return p.paused.Load() }
func (p *fakePlayer) Step()            { p.steps <- struct{}{} }

// TestPlayerKeys: with a Player source (a replay), space pauses the
// player rather than freezing the display, and n steps while paused.
func TestPlayerKeys(t *testing.T) {
	p := &fakePlayer{fakeSource: newFakeSource(), steps: make(chan struct{}, 4), pauses: make(chan bool, 4)}
	p.paused.Store(true) // started paused
	h := startUI(t, p, 100, 30)
	h.waitFor("PAUSED", "no data yet")
	h.keys("n")
	select {
	case <-p.steps:
	case <-time.After(5 * time.Second):
		t.Fatal("n did not step the player")
	}
	// What the player delivers shows at once, though paused.
	p.updates <- Update{Snapshots: []*model.Snapshot{fixtureSnapshot(0)}, Status: &Status{State: StateLive, Mode: "replay"}}
	h.keys("2")
	h.waitFor("1500", "PAUSED", "▶ replay", "at 2026-11-27")
	h.keys(" ")
	select {
	case b := <-p.pauses:
		if b {
			t.Error("space paused a paused player")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("space did not reach the player")
	}
	h.waitGone("PAUSED")
	h.keys("n") // not paused: n does nothing
	p.updates <- Update{Status: &Status{State: StateEnded, Mode: "replay"}}
	h.waitFor("replay ended")
	if len(p.steps) != 0 {
		t.Error("n stepped a playing player")
	}
}

func TestOverviewFirstSample(t *testing.T) {
	src := newFakeSource()
	h := startUI(t, src, 120, 30)
	src.updates <- liveUpdate(1)
	s := h.waitFor("sched latency p99", "first sample; trends need a second one")
	if strings.Contains(s, "over the last  (") {
		t.Errorf("overview shows an empty time span:\n%s", s)
	}
}

// TestGoroutinesWithoutCreationSites: groups from the concurrent goroutine
// profile have no creation site; the table says where they started
// instead of leaving the column blank.
func TestGoroutinesWithoutCreationSites(t *testing.T) {
	src := newFakeSource()
	h := startUI(t, src, 120, 30)
	u := liveUpdate(1)
	s := u.Snapshots[0]
	s.Groups = []model.GoroutineGroup{{
		Key: "live", WaitReason: model.WaitChanRecv, Count: 42,
		Start:     model.Frame{Func: "example.com/svc/feed.forward", File: "/src/feed.go", Line: 10},
		TopFrames: []model.Frame{{Func: "example.com/svc/feed.forward", File: "/src/feed.go", Line: 12}},
	}}
	src.updates <- u
	h.waitFor("live")
	h.keys("2")
	h.waitFor("CREATED BY", "42", "started in feed.forward")
}

package tui

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"

	"github.com/asyncmon/asyncmon/model"
)

// manyGroups returns a snapshot with n goroutine groups of realistic shape.
func manyGroups(n int) *model.Snapshot {
	s := fixtureSnapshot(0)
	s.Groups = make([]model.GoroutineGroup, n)
	for i := range s.Groups {
		fn := fmt.Sprintf("example.com/svc/pkg%d.(*Worker%d).run", i%97, i)
		file := fmt.Sprintf("/src/svc/pkg%d/worker.go", i%97)
		s.Groups[i] = model.GoroutineGroup{
			Key: strconv.Itoa(i), WaitReason: model.WaitChanRecv, Count: (i * 7919) % 1000, Delta: i%5 - 2,
			CreatedBy: model.Frame{Func: "example.com/svc/pkg.Start", File: "/src/svc/pkg/start.go", Line: i % 300},
			TopFrames: []model.Frame{{Func: fn, File: file, Line: i % 500}},
			Stack: []model.Frame{
				{Func: "runtime.gopark", File: "/usr/lib/go/src/runtime/proc.go", Line: 435},
				{Func: "runtime.chanrecv1", File: "/usr/lib/go/src/runtime/chan.go", Line: 506},
				{Func: fn, File: file, Line: i % 500},
			},
		}
	}
	return s
}

// history returns n one-second snapshots ending at t0+n s.
func history(n int) []*model.Snapshot {
	out := make([]*model.Snapshot, n)
	for i := range out {
		out[i] = fixtureSnapshot(i)
	}
	return out
}

func simScreen(b *testing.B, w, h int) tcell.SimulationScreen {
	scr := tcell.NewSimulationScreen("UTF-8")
	if err := scr.Init(); err != nil {
		b.Fatal(err)
	}
	scr.SetSize(w, h)
	return scr
}

func drawFrame(scr tcell.Screen, p tview.Primitive) {
	w, h := scr.Size()
	p.SetRect(0, 0, w, h)
	scr.Clear()
	p.Draw(scr)
	scr.Show()
}

// benchUI is a whole UI (tab bar, view, status line), not running: the
// benchmarks draw its root directly, as the event loop does per frame.
func benchUI(v View, snaps []*model.Snapshot) *ui {
	u := newUI(Options{Source: newFakeSource(), Now: fixedNow})
	u.apply(Update{Snapshots: snaps, Findings: fixtureFindings(), HasFindings: true,
		Status: &Status{State: StateLive, Mode: "agent"}}, fixedNow())
	u.selectView(v)
	return u
}

var benchSizes = []struct{ w, h int }{{80, 24}, {200, 60}}

// BenchmarkGoroutinesView measures one frame of the whole UI showing the
// goroutine view with 10,000 groups: "update" is a new sample arriving
// (fold in, sort, draw), "redraw" a frame without new data, "filter" a
// keystroke in the / filter.
func BenchmarkGoroutinesView(b *testing.B) {
	next := [2]*model.Snapshot{manyGroups(10000), manyGroups(10000)}
	for _, size := range benchSizes {
		name := fmt.Sprintf("%dx%d", size.w, size.h)
		b.Run("update/"+name, func(b *testing.B) {
			scr := simScreen(b, size.w, size.h)
			defer scr.Fini()
			u := benchUI(ViewGoroutines, nil)
			i := 0
			for b.Loop() {
				s := *next[i%2]
				s.Time = t0.Add(time.Duration(i) * time.Second)
				i++
				u.apply(Update{Snapshots: []*model.Snapshot{&s}}, fixedNow())
				drawFrame(scr, u.main)
			}
		})
		b.Run("redraw/"+name, func(b *testing.B) {
			scr := simScreen(b, size.w, size.h)
			defer scr.Fini()
			u := benchUI(ViewGoroutines, next[:1])
			for b.Loop() {
				drawFrame(scr, u.main)
			}
		})
		b.Run("filter/"+name, func(b *testing.B) {
			scr := simScreen(b, size.w, size.h)
			defer scr.Fini()
			u := benchUI(ViewGoroutines, next[:1])
			i := 0
			for b.Loop() {
				i++
				u.gr.table.SetFilter([]string{"worker.go", "pkg4", "chan"}[i%3])
				drawFrame(scr, u.main)
			}
		})
	}
}

// BenchmarkOverview measures one frame of the whole UI showing the
// overview over ten minutes of one-second history (600 snapshots).
func BenchmarkOverview(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("%dx%d", size.w, size.h), func(b *testing.B) {
			scr := simScreen(b, size.w, size.h)
			defer scr.Fini()
			u := benchUI(ViewOverview, history(600))
			for b.Loop() {
				drawFrame(scr, u.main)
			}
		})
	}
}

// BenchmarkStateApply measures folding one snapshot (1,000 groups) into
// a state whose ten minutes of history are full, as every live update
// and every replayed line does.
func BenchmarkStateApply(b *testing.B) {
	base := manyGroups(1000)
	var st state
	for i := range 600 {
		s := *base
		s.Time = t0.Add(time.Duration(i) * time.Second)
		st.apply(Update{Snapshots: []*model.Snapshot{&s}}, t0)
	}
	i := 600
	for b.Loop() {
		s := *base
		s.Time = t0.Add(time.Duration(i) * time.Second)
		i++
		st.apply(Update{Snapshots: []*model.Snapshot{&s}}, t0)
	}
}

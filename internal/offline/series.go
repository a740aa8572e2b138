package offline

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/asyncmon/asyncmon/collectors"
	"github.com/asyncmon/asyncmon/collectors/dump"
	"github.com/asyncmon/asyncmon/collectors/goroutines"
	"github.com/asyncmon/asyncmon/detectors"
	"github.com/asyncmon/asyncmon/findings"
	"github.com/asyncmon/asyncmon/model"
)

const (
	// seriesMaxGroups bounds the group table of a pprof-only target, as
	// the agent's own goroutine collector bounds its table.
	seriesMaxGroups = 1000
	// seriesTopSites bounds the contention sites per profile, as the
	// agent's blocking collector does.
	seriesTopSites = 10
	// seriesWindow is how much dump history the detectors see: the leak
	// detector's five minutes of parked goroutines, and some.
	seriesWindow = 6 * time.Minute
)

// Series turns successive readings of a process's goroutine, block and
// mutex profiles into snapshots and findings, with the agent's grouper
// and contention deltas and the detectors that judge dumps, run through
// the findings engine over the recent snapshots. It is not safe for
// concurrent use.
type Series struct {
	gr           *goroutines.Grouper
	block, mutex collectors.Contention
	engine       *findings.Engine // nil if the detectors could not start
	window       []*model.Snapshot
}

// NewSeries returns an empty series.
func NewSeries() *Series {
	s := &Series{gr: goroutines.NewGrouper(goroutines.GroupOptions{MaxGroups: seriesMaxGroups})}
	ds, _ := detectors.ForDump()
	if e, err := findings.NewEngine(findings.Config{}, ds...); err == nil {
		s.engine = e
	}
	return s
}

// Sample folds one reading of a target into snap: its goroutine profile
// (pprof protobuf) and its block and mutex profiles (debug=1 text; nil
// when the target did not serve them), then runs the detectors. note says
// what went wrong with the profiles, "" when nothing did; findings is nil
// when the detectors could not start.
func (s *Series) Sample(goroutines, block, mutex io.Reader, snap *model.Snapshot) (findings []model.Finding, note string) {
	d, err := ParseProto(goroutines)
	if err := s.AddGoroutines(d, err, snap); err != nil {
		note = "dump: " + err.Error()
	}
	if err := s.AddContention(block, mutex, snap); err != nil {
		note = strings.TrimSpace(note + "  " + err.Error())
	}
	return s.Detect(snap), note
}

// AddGoroutines groups the parsed goroutine dump d into snap; err is the
// parse problem, if any (a dump with malformed lines still fills snap),
// and is returned, joined by a note when the dump was cut off.
func (s *Series) AddGoroutines(d *dump.Dump, err error, snap *model.Snapshot) error {
	if d == nil || (len(d.Goroutines) == 0 && len(d.Records) == 0) {
		return err
	}
	var t *goroutines.GroupTable
	if d.Format == dump.FormatProfile {
		t = s.gr.GroupRecords(d.Records)
	} else {
		t = s.gr.Group(d.Goroutines)
	}
	fillCounts(snap, t)
	if d.Truncated && err == nil {
		err = fmt.Errorf("the dump was cut off; groups cover the goroutines before the cut")
	}
	return err
}

// AddContention folds block and mutex profile readings (debug=1 text;
// either may be nil when the target did not serve it) into snap.
func (s *Series) AddContention(block, mutex io.Reader, snap *model.Snapshot) error {
	var errs []error
	bl := &snap.Blocking
	bl.WindowSeconds = snap.IntervalSeconds
	if block != nil {
		if cp, err := dump.ParseContention(block); err != nil {
			errs = append(errs, fmt.Errorf("block profile: %w", err))
		} else {
			bl.Block, bl.BlockDelaySecondsTotal, bl.BlockEventsTotal = s.block.Update(cp, seriesTopSites)
		}
	}
	if mutex != nil {
		if cp, err := dump.ParseContention(mutex); err != nil {
			errs = append(errs, fmt.Errorf("mutex profile: %w", err))
		} else {
			bl.Mutex, bl.MutexDelaySecondsTotal, bl.MutexEventsTotal = s.mutex.Update(cp, seriesTopSites)
			bl.MutexProfileFraction = int(cp.SamplingPeriod)
		}
	}
	return errors.Join(errs...)
}

// Detect runs the dump detectors over the recent snapshots ending with
// snap and returns all findings (never nil), or nil when the detectors
// could not start.
func (s *Series) Detect(snap *model.Snapshot) []model.Finding {
	if s.engine == nil {
		return nil
	}
	s.window = append(s.window, snap)
	cut := 0
	for cut < len(s.window)-1 && snap.Time.Sub(s.window[cut].Time) > seriesWindow {
		cut++
	}
	s.window = append(s.window[:0:0], s.window[cut:]...)
	s.engine.Run(model.Window{Snapshots: s.window})
	fs := s.engine.Findings()
	if fs == nil {
		fs = []model.Finding{}
	}
	return fs
}

// fillCounts puts a group table into snap: its group fields, and the
// goroutine counts by state, which offline come from the table (a live
// agent reads them from runtime/metrics).
func fillCounts(snap *model.Snapshot, t *goroutines.GroupTable) {
	if snap.GroupsTime.IsZero() {
		snap.GroupsTime = snap.Time
	}
	t.Fill(snap, snap.GroupsTime)
	g := &snap.Goroutines
	g.Total = t.Goroutines
	g.Running = t.ByWaitReason[model.WaitRunning]
	g.Runnable = t.ByWaitReason[model.WaitRunnable]
	g.NotInGo = t.ByWaitReason[model.WaitSyscall]
	g.Waiting = g.Total - g.Running - g.Runnable - g.NotInGo
}

package main

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/asyncmon/asyncmon/collectors/dump"
	"github.com/asyncmon/asyncmon/collectors/goroutines"
	"github.com/asyncmon/asyncmon/detectors"
	"github.com/asyncmon/asyncmon/findings"
	"github.com/asyncmon/asyncmon/model"
)

// pprofMaxGroups bounds the group table of a pprof-only target, as the
// agent's own goroutine collector bounds its table.
const pprofMaxGroups = 1000

// dumpAnalyzer turns successive goroutine dumps into snapshot sections
// with the agent's parser and grouper: groups with their change since the
// previous dump, and goroutine counts by wait reason.
type dumpAnalyzer struct {
	gr           *goroutines.Grouper
	block, mutex contention
	// engine runs the detectors that judge dumps over window, the
	// recent pprof snapshots, and keeps their findings' lifecycle.
	engine *findings.Engine
	window []*model.Snapshot
}

// pprofWindow is how much dump history the detectors see: the leak
// detector's five minutes of parked goroutines, and some.
const pprofWindow = 6 * time.Minute

func newDumpAnalyzer() *dumpAnalyzer {
	a := &dumpAnalyzer{gr: goroutines.NewGrouper(goroutines.GroupOptions{MaxGroups: pprofMaxGroups})}
	ds, _ := detectors.ForDump()
	if e, err := findings.NewEngine(findings.Config{}, ds...); err == nil {
		a.engine = e
	}
	return a
}

// detect runs the dump detectors over the recent snapshots ending with
// snap and returns the findings, nil when there is no engine.
func (a *dumpAnalyzer) detect(snap *model.Snapshot) []model.Finding {
	if a.engine == nil {
		return nil
	}
	a.window = append(a.window, snap)
	cut := 0
	for cut < len(a.window)-1 && snap.Time.Sub(a.window[cut].Time) > pprofWindow {
		cut++
	}
	a.window = append(a.window[:0:0], a.window[cut:]...)
	a.engine.Run(model.Window{Snapshots: a.window})
	fs := a.engine.Findings()
	if fs == nil {
		fs = []model.Finding{}
	}
	return fs
}

// add groups the parsed dump d into snap; err is the parse problem, if
// any (a dump with malformed lines still fills snap), and is returned.
func (a *dumpAnalyzer) add(d *dump.Dump, err error, snap *model.Snapshot) error {
	if d == nil || (len(d.Goroutines) == 0 && len(d.Records) == 0) {
		return err
	}
	var t *goroutines.GroupTable
	if d.Format == dump.FormatProfile {
		t = a.gr.GroupRecords(d.Records)
	} else {
		t = a.gr.Group(d.Goroutines)
	}
	snap.Groups = t.Groups
	snap.GroupsTotal = t.Total
	snap.GroupsTruncated = t.Truncated
	g := &snap.Goroutines
	g.Total = t.Goroutines
	g.ByWaitReason = t.ByWaitReason
	g.Running = t.ByWaitReason[model.WaitRunning]
	g.Runnable = t.ByWaitReason[model.WaitRunnable]
	g.NotInGo = t.ByWaitReason[model.WaitSyscall]
	g.Waiting = g.Total - g.Running - g.Runnable - g.NotInGo
	if d.Truncated && err == nil {
		err = fmt.Errorf("the dump was cut off; groups cover the goroutines before the cut")
	}
	return err
}

// pprofTopSites bounds the contention sites shown per profile, as the
// agent's blocking collector does.
const pprofTopSites = 10

// contention turns successive readings of one cumulative contention
// profile (block or mutex) into per-site deltas.
type contention struct {
	prev map[string]dump.ContentionRecord // by stack; nil before the first reading
}

// stackKey identifies a record's stack.
func stackKey(fs []model.Frame) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(f.Func)
		b.WriteByte('@')
		b.WriteString(f.Site())
		b.WriteByte('\n')
	}
	return b.String()
}

// siteOf is the innermost frame outside the runtime and the sync
// packages: the user code that blocked.
func siteOf(fs []model.Frame) model.Frame {
	for _, f := range fs {
		if !strings.HasPrefix(f.Func, "runtime.") && !strings.HasPrefix(f.Func, "sync.") &&
			!strings.HasPrefix(f.Func, "sync/") && !strings.HasPrefix(f.Func, "internal/") {
			return f
		}
	}
	if len(fs) > 0 {
		return fs[0]
	}
	return model.Frame{}
}

// update reads a profile and returns the top sites by delay since the
// previous reading (none at the first), and the cumulative totals.
func (c *contention) update(cp *dump.ContentionProfile) (sites []model.BlockingSite, delay float64, events int64) {
	secs := func(cycles int64) float64 {
		if cp.CyclesPerSecond <= 0 {
			return 0
		}
		return float64(cycles) / float64(cp.CyclesPerSecond)
	}
	type acc struct {
		site model.BlockingSite
		best int64
	}
	bySite := map[string]*acc{}
	next := make(map[string]dump.ContentionRecord, len(cp.Records))
	for _, r := range cp.Records {
		delay += secs(r.Cycles)
		events += r.Count
		k := stackKey(r.Frames)
		next[k] = r
		if c.prev == nil {
			continue
		}
		p := c.prev[k]
		dc, dn := r.Cycles-p.Cycles, r.Count-p.Count
		if dc <= 0 && dn <= 0 {
			continue
		}
		s := siteOf(r.Frames)
		sk := s.Func + "@" + s.Site()
		a := bySite[sk]
		if a == nil {
			a = &acc{site: model.BlockingSite{Site: s}}
			bySite[sk] = a
		}
		a.site.Count += dn
		a.site.DelaySeconds += secs(dc)
		if dc > a.best {
			a.best, a.site.Stack = dc, r.Frames
		}
	}
	c.prev = next
	for _, a := range bySite {
		sites = append(sites, a.site)
	}
	slices.SortFunc(sites, func(x, y model.BlockingSite) int { return cmp.Compare(y.DelaySeconds, x.DelaySeconds) })
	if len(sites) > pprofTopSites {
		sites = sites[:pprofTopSites]
	}
	return sites, delay, events
}

// addContention folds block and mutex profile readings (debug=1 text;
// either may be nil when the target did not serve it) into snap.
func (a *dumpAnalyzer) addContention(block, mutex io.Reader, snap *model.Snapshot, window float64) error {
	var errs []error
	bl := &snap.Blocking
	bl.WindowSeconds = window
	if block != nil {
		if cp, err := dump.ParseContention(block); err != nil {
			errs = append(errs, fmt.Errorf("block profile: %w", err))
		} else {
			bl.Block, bl.BlockDelaySecondsTotal, bl.BlockEventsTotal = a.block.update(cp)
		}
	}
	if mutex != nil {
		if cp, err := dump.ParseContention(mutex); err != nil {
			errs = append(errs, fmt.Errorf("mutex profile: %w", err))
		} else {
			bl.Mutex, bl.MutexDelaySecondsTotal, bl.MutexEventsTotal = a.mutex.update(cp)
			bl.MutexProfileFraction = int(cp.SamplingPeriod)
		}
	}
	return errors.Join(errs...)
}

package agent

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/agent/capture"
	"github.com/asyncmon/asyncmon/agent/internal/metrics"
	"github.com/asyncmon/asyncmon/collectors"
	"github.com/asyncmon/asyncmon/collectors/goroutines"
	"github.com/asyncmon/asyncmon/detectors"
	"github.com/asyncmon/asyncmon/findings"
	"github.com/asyncmon/asyncmon/model"
)

// detectEvery is the shortest time between two detector passes.
const detectEvery = time.Second

// findings runs the detector engine after each collection, counts firings
// for the metrics and starts evidence capture for findings that fire.
type detection struct {
	engine  *findings.Engine
	capture evidence // nil when capture is disabled
	// lastRun is when the detectors last ran; collection goroutine only.
	lastRun time.Time

	mu    sync.Mutex // guards fired
	fired map[metrics.LevelKey]uint64
}

// evidence is what the agent needs of evidence capture
// (*capture.Capturer): start capturing for a finding that fired, and serve
// what was captured.
type evidence interface {
	OnFiring(model.Finding)
	SaveText(kind, finding string, r io.Reader, max int64) (model.Capture, error)
	List() []model.Capture
	Open(id string) (model.Capture, *os.File, error)
	// Stats counts the bounds capture hit, for the agent's own health.
	Stats() capture.Stats
}

// captureSink is the findings engine as evidence capture sees it: a level
// that an amendment raises counts as a firing, like one the engine reports.
type captureSink struct{ d *detection }

func (s captureSink) Annotate(id string, ev model.Evidence) bool {
	return s.d.engine.Annotate(id, ev)
}

func (s captureSink) Amend(id string, am findings.Amendment) bool {
	if !s.d.engine.Amend(id, am) {
		return false
	}
	if f, ok := s.d.engine.Finding(id); ok {
		s.d.countFired(f.Detector, f.Level)
	}
	return true
}

func newDetection(opts Options) (*detection, error) {
	ds := opts.Detectors
	if len(ds) == 0 && !opts.NoDetectors {
		ds = detectors.Defaults()
	}
	if opts.NoDetectors {
		ds = nil
	}
	e, err := findings.NewEngine(opts.Lifecycle, ds...)
	if err != nil {
		return nil, fmt.Errorf("detectors: %w", err)
	}
	return &detection{engine: e, fired: make(map[metrics.LevelKey]uint64)}, nil
}

// detect runs the detectors over the history followed by snap, which is
// not in the history yet, and records the active findings in snap so the
// stream carries them. It is called from the collection goroutine only.
func (a *Agent) detect(snap *model.Snapshot) {
	if a.detection == nil {
		return
	}
	// Detectors judge seconds-long trends: at short intervals, running
	// them more than once a second costs without telling more.
	if snap.Time.Sub(a.detection.lastRun) < detectEvery {
		a.activeFindings(snap)
		return
	}
	a.detection.lastRun = snap.Time
	w := a.Window(0)
	w.Snapshots = append(slices.Clip(w.Snapshots), snap)
	res := a.detection.engine.Run(w)
	for _, err := range res.Errors {
		a.log.Error("detector panicked", "err", err)
	}
	for _, f := range res.Fired {
		a.detection.countFired(f.Detector, f.Level)
	}
	for _, f := range res.Fired {
		a.log.Warn("finding firing", "detector", f.Detector, "level", string(f.Level), "subject", f.Subject, "title", f.Title)
		if a.detection.capture != nil {
			a.detection.capture.OnFiring(f)
		}
	}
	for _, f := range res.Resolved {
		a.log.Info("finding resolved", "detector", f.Detector, "subject", f.Subject)
	}
	a.activeFindings(snap)
}

// activeFindings records the headlines of the pending and firing
// findings in snap: every snapshot of the history holds them, so the
// summary and the evidence (stacks, notes) are left to /api/v1/findings.
func (a *Agent) activeFindings(snap *model.Snapshot) {
	for _, f := range a.detection.engine.Findings() {
		if f.State != model.StateResolved {
			f.Summary, f.Evidence = "", model.Evidence{}
			snap.Findings = append(snap.Findings, f)
		}
	}
}

// Findings returns the agent's findings: firing and pending ones first
// (most severe first), then recently resolved ones, newest first.
func (a *Agent) Findings() []model.Finding {
	if a.detection == nil {
		return nil
	}
	return a.detection.engine.Findings()
}

// firedCounts returns a copy of the firings per detector and level.
func (f *detection) firedCounts() map[metrics.LevelKey]uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.fired)
}

// startFindings sets up the request middleware's collector, the detector
// engine and evidence capture, and starts the capture goroutine.
func (a *Agent) startFindings(opts Options) error {
	a.requests = collectors.NewRequests(a.requestsOptions(opts))
	a.cols = append(a.cols, &collectorState{c: a.requests}, &collectorState{c: a.panics})
	if !opts.NoDetectors && !a.hasCollector("goroutines") {
		// The leak and stall detectors need the goroutine group table.
		a.addBuiltin(goroutines.NewCollector(goroutines.Options{Logger: opts.Logger}))
	}
	d, err := newDetection(opts)
	if err != nil {
		return err
	}
	a.detection = d
	if !opts.NoCapture {
		c := capture.New(opts.Capture, a.log, captureSink{d})
		d.capture = c
		a.wg.Go(func() { c.Run(a.ctx) })
	}
	return nil
}

// Middleware wraps an HTTP handler so the agent tracks its requests in
// flight: they appear in Snapshot.Requests, and the stuck-request detector
// reports those in flight for too long, with the handler goroutine's
// stack. It also counts the requests that arrive and finish (the overload
// detector watches them pile up) and records a handler's panic at the
// line that panicked before panicking again, so net/http handles it as
// before (http.ErrAbortHandler is passed on uncounted). It costs one
// goroutine-ID lookup and a map insert per request.
func (a *Agent) Middleware(h http.Handler) http.Handler {
	return a.requests.Middleware(h)
}

// hasCollector reports whether a collector with name is configured.
func (a *Agent) hasCollector(name string) bool {
	for _, cs := range a.cols {
		if cs.c.Name() == name {
			return true
		}
	}
	return false
}

// countFired counts one firing (or rise in level) for the metrics.
func (f *detection) countFired(detector string, level model.Level) {
	f.mu.Lock()
	f.fired[metrics.LevelKey{Detector: detector, Level: level}]++
	f.mu.Unlock()
}

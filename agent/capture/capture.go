// Package capture saves the evidence of findings that fire: a goroutine
// dump at once, then block and mutex profiles and a short CPU profile, and,
// as an opt-in, the last seconds of a runtime/trace flight recorder. The
// files go into a bounded directory; what they show is added to the
// finding through the small [Findings] interface the agent passes in.
package capture

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asyncmon/asyncmon/collectors/goroutines"
	"github.com/asyncmon/asyncmon/detectors"
	"github.com/asyncmon/asyncmon/findings"
	"github.com/asyncmon/asyncmon/model"
)

// Capture defaults.
const (
	defaultCaptureFiles    = 64
	defaultCaptureBytes    = 64 << 20
	defaultCaptureEvery    = time.Minute
	defaultCaptureBurst    = 3
	defaultCaptureCPU      = 5 * time.Second
	defaultTraceWindow     = 10 * time.Second
	defaultTraceMaxBytes   = 16 << 20
	captureQueue           = 8
	capturePrefix          = "asyncmon-"
	hotFunctions           = 5
	goroutineLeakProfile   = "goroutineleak"
	captureKindGoroutine   = "goroutine"
	captureKindCPU         = "cpu"
	captureKindBlock       = "block"
	captureKindMutex       = "mutex"
	captureKindTrace       = "trace"
	captureKindLeakProfile = "goroutineleak"
	// maxFullDumpGoroutines bounds the stop-the-world of the dump taken
	// on firing to about 300ms.
	maxFullDumpGoroutines = 10000
	// maxLeakCaptureGoroutines bounds the stop-the-world of the
	// goroutineleak profile read on firing to a few milliseconds
	// (docs/perf.md).
	maxLeakCaptureGoroutines = 10000
)

// Options configures evidence capture: when a finding fires, the
// agent saves a goroutine dump (at once, so it shows the state at firing
// time), then block and mutex profiles and a short CPU profile, and, as an
// opt-in, the last seconds of a runtime/trace flight recorder. The zero
// value captures with the defaults below.
type Options struct {
	// Dir is where captures are written; it is created at the first
	// capture, so an agent in a read-only file system starts and only
	// its captures fail (each failure is logged and noted in the
	// finding). Optional. Default $TMPDIR/asyncmon-captures-<pid>, removed
	// on Close when it holds no capture. Files the agent did not write
	// are never touched.
	Dir string
	// MaxFiles and MaxBytes bound the captures kept; the oldest are
	// deleted first. Optional. Defaults 64 files and 64 MiB.
	MaxFiles int
	MaxBytes int64
	// Every is the rate limit, per detector: one capture set per Every,
	// with a burst of 3. Findings that fire beyond it are noted as not
	// captured. Optional. Default 1 minute.
	Every time.Duration
	// CPUProfile is the length of the CPU profile taken when a finding
	// fires. Optional. Default 5 s.
	CPUProfile time.Duration
	// NoCPUProfile takes no CPU profile when a finding fires. Optional.
	// Default false.
	NoCPUProfile bool
	// Trace runs a runtime/trace flight recorder all the time and saves
	// its window when a finding fires. It costs a few percent of CPU,
	// hence the opt-in. Optional. Default false.
	Trace bool
	// TraceWindow is how much recent history the flight recorder keeps.
	// Optional. Default 10 s.
	TraceWindow time.Duration
}

// Findings is what a Capturer needs of the findings engine: a way to add
// what the captures show to the finding that fired.
// [github.com/asyncmon/asyncmon/findings.Engine] implements it.
type Findings interface {
	// Annotate adds evidence to an active finding.
	Annotate(id string, ev model.Evidence) bool
	// Amend changes an active finding with what was learnt after it
	// fired, and reports whether its level rose.
	Amend(id string, am findings.Amendment) bool
}

// Capturer saves evidence into a bounded directory. OnFiring runs on the
// collection goroutine and returns quickly; slow captures (the CPU
// profile) run in Run, on a goroutine its caller owns and joins. Its
// methods are safe for concurrent use.
type Capturer struct {
	opts Options
	// tempDir is true when Dir is the default one, which Close removes
	// if it is empty.
	tempDir bool
	log     *slog.Logger
	sink    Findings
	// The bounds hit since New, for Stats.
	rateLimited, queueFull, failed, evicted atomic.Uint64
	jobs                                    chan captureJob
	flight                                  *trace.FlightRecorder

	mu    sync.Mutex // guards the fields below
	index []captureFile
	seq   uint64
	// buckets rate-limit capture sets per detector, so one detector's
	// many findings do not use up the evidence of the others.
	buckets map[string]*bucket
}

// captureFile is one capture and its file.
type captureFile struct {
	model.Capture
	path string
}

// captureJob is the slow part of one capture set.
type captureJob struct {
	finding model.Finding
}

// New returns a capturer that reports to sink, and starts the flight
// recorder if opts.Trace asks for it: call Run, or Stop if Run will
// never be called. log may be nil.
func New(opts Options, log *slog.Logger, sink Findings) *Capturer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tempDir := opts.Dir == ""
	if tempDir {
		opts.Dir = filepath.Join(os.TempDir(), fmt.Sprintf("asyncmon-captures-%d", os.Getpid()))
	}
	if opts.MaxFiles <= 0 {
		opts.MaxFiles = defaultCaptureFiles
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = defaultCaptureBytes
	}
	if opts.Every <= 0 {
		opts.Every = defaultCaptureEvery
	}
	if opts.CPUProfile <= 0 {
		opts.CPUProfile = defaultCaptureCPU
	}
	if opts.TraceWindow <= 0 {
		opts.TraceWindow = defaultTraceWindow
	}
	c := &Capturer{
		opts:    opts,
		tempDir: tempDir,
		log:     log,
		sink:    sink,
		jobs:    make(chan captureJob, captureQueue),
		buckets: make(map[string]*bucket),
	}
	c.loadIndex()
	if opts.Trace {
		fr := trace.NewFlightRecorder(trace.FlightRecorderConfig{MinAge: opts.TraceWindow, MaxBytes: defaultTraceMaxBytes})
		if err := fr.Start(); err != nil {
			// Another flight recorder is running in this process:
			// go on without one.
			log.Warn("flight recorder not started", "err", err)
		} else {
			c.flight = fr
		}
	}
	return c
}

// Run takes the slow captures until ctx is done, then stops the flight
// recorder and removes the default directory if it is empty.
func (c *Capturer) Run(ctx context.Context) {
	defer c.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-c.jobs:
			c.slow(ctx, j)
		}
	}
}

// Stop stops the flight recorder and removes the default directory if it
// holds no capture. Run calls it on return; call it yourself only when
// Run will never run.
func (c *Capturer) Stop() {
	if c.flight != nil {
		c.flight.Stop()
	}
	if c.tempDir {
		os.Remove(c.opts.Dir) // fails, as it should, unless empty
	}
}

// bucket is a token bucket: defaultCaptureBurst tokens, refilled at one
// per Options.Every.
type bucket struct {
	tokens float64
	last   time.Time
}

// allow takes a token from detector's bucket at now.
func (c *Capturer) allow(detector string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.buckets[detector]
	if b == nil {
		b = &bucket{tokens: defaultCaptureBurst, last: now}
		c.buckets[detector] = b
	}
	b.tokens = min(defaultCaptureBurst, b.tokens+now.Sub(b.last).Seconds()/c.opts.Every.Seconds())
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// OnFiring captures the fast evidence of a finding that just fired (the
// goroutine dump and the flight recorder window, so they show the state
// at firing time) and queues the slow part for Run.
func (c *Capturer) OnFiring(f model.Finding) {
	if !c.allow(f.Detector, time.Now()) {
		c.rateLimited.Add(1)
		c.sink.Annotate(f.ID, model.Evidence{Notes: []string{
			fmt.Sprintf("no evidence captured: capture is rate limited to %d at once, then one per %s, per detector", defaultCaptureBurst, c.opts.Every)}})
		return
	}
	var ids []string
	// A full dump (debug=2) stops the world for its whole walk, longer
	// with every goroutine (docs/goroutines.md): past maxFullDumpGoroutines, take the
	// concurrent profile (debug=1: stacks with counts, no IDs or waits).
	debug := 2
	if runtime.NumGoroutine() > maxFullDumpGoroutines {
		debug = 1
	}
	if cp, err := c.save(captureKindGoroutine, "text", f.ID, func(w io.Writer) error {
		if debug == 1 {
			return pprof.Lookup("goroutine").WriteTo(w, 1)
		}
		// The debug=2 text in one stop-the-world walk (pprof's may take
		// up to seven at 100k goroutines).
		return goroutines.WriteDump(w)
	}); err == nil {
		ids = append(ids, cp.ID)
	} else {
		c.log.Warn("capture failed", "kind", captureKindGoroutine, "err", err)
	}
	if c.flight != nil && c.flight.Enabled() {
		if cp, err := c.save(captureKindTrace, "trace", f.ID, func(w io.Writer) error {
			_, err := c.flight.WriteTo(w)
			return err
		}); err == nil {
			ids = append(ids, cp.ID)
		} else {
			c.log.Warn("capture failed", "kind", captureKindTrace, "err", err)
		}
	}
	c.sink.Annotate(f.ID, model.Evidence{Captures: ids})
	select {
	case c.jobs <- captureJob{finding: f}:
	default:
		c.queueFull.Add(1)
		c.log.Warn("capture queue full", "finding", f.ID)
	}
}

// slow takes block, mutex and CPU profiles (and, for goroutine leaks, the
// runtime's goroutineleak profile where the binary has it) for one
// finding, and annotates the finding with what they show.
func (c *Capturer) slow(ctx context.Context, j captureJob) {
	f := j.finding
	var ev model.Evidence
	for _, kind := range []string{captureKindBlock, captureKindMutex} {
		if cp, err := c.save(kind, "pprof", f.ID, func(w io.Writer) error {
			return pprof.Lookup(kind).WriteTo(w, 0)
		}); err == nil {
			ev.Captures = append(ev.Captures, cp.ID)
		}
	}
	if f.Detector == detectors.LeakName {
		c.leakProfile(f, &ev)
	}
	if !c.opts.NoCPUProfile {
		var buf bytes.Buffer
		if err := pprof.StartCPUProfile(&buf); err != nil {
			// Only one CPU profile may run at a time in a process:
			// someone is taking one through /debug/pprof/profile.
			ev.Notes = append(ev.Notes, "no CPU profile: another CPU profile was running ("+err.Error()+")")
		} else {
			t := time.NewTimer(c.opts.CPUProfile)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
			pprof.StopCPUProfile()
			data := buf.Bytes()
			if cp, err := c.save(captureKindCPU, "pprof", f.ID, func(w io.Writer) error {
				_, err := w.Write(data)
				return err
			}); err == nil {
				ev.Captures = append(ev.Captures, cp.ID)
			}
			if hot, err := hottest(data, hotFunctions); err == nil && len(hot.lines) > 0 {
				ev.Notes = append(ev.Notes, "hottest functions in the "+c.opts.CPUProfile.String()+" CPU profile taken when this fired: "+strings.Join(hot.lines, "; "))
				if len(hot.stack.Frames) > 0 {
					ev.Stacks = append(ev.Stacks, hot.stack)
				}
				// Starvation's subject is the process; once a profile
				// shows the service's own code burning the CPU, that
				// code's file:line is the better subject.
				if f.Detector == detectors.StarvationName && f.Cause == detectors.CauseCPU && hot.site != "" {
					c.sink.Amend(f.ID, findings.Amendment{Subject: hot.site})
				}
			}
		}
	}
	c.sink.Annotate(f.ID, ev)
}

// leakProfile saves the runtime's goroutineleak profile, which exists in
// Go 1.27 and in Go 1.26 binaries built with
// GOEXPERIMENT=goroutineleakprofile, and notes whether it confirms the
// finding. Reading it runs a GC cycle whose stop-the-world pause grows
// with the goroutine count, so past maxLeakCaptureGoroutines it is left
// to the goroutine collector, which bounds that pause.
func (c *Capturer) leakProfile(f model.Finding, ev *model.Evidence) {
	p := pprof.Lookup(goroutineLeakProfile)
	if p == nil {
		ev.Notes = append(ev.Notes, "not confirmed by the runtime: it has no goroutineleak profile to check it (use Go 1.27, or GOEXPERIMENT=goroutineleakprofile on Go 1.26)")
		return
	}
	if n := runtime.NumGoroutine(); n > maxLeakCaptureGoroutines {
		ev.Notes = append(ev.Notes, fmt.Sprintf("no goroutineleak profile captured: at %d goroutines its GC pause would pass the capture's bound (%d goroutines); the goroutine collector reads it on its own, bounded schedule", n, maxLeakCaptureGoroutines))
		return
	}
	var text bytes.Buffer
	if err := p.WriteTo(&text, 1); err != nil {
		return
	}
	data := text.Bytes()
	if cp, err := c.save(captureKindLeakProfile, "text", f.ID, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}); err == nil {
		ev.Captures = append(ev.Captures, cp.ID)
	}
	if f.Subject != "" && bytes.Contains(data, []byte(f.Subject)) {
		note := "confirmed: the runtime's goroutineleak profile reports goroutines leaked at " + f.Subject + ": they are blocked on primitives no other goroutine can reach"
		c.sink.Amend(f.ID, findings.Amendment{Level: model.LevelCritical, Cause: detectors.CauseConfirmed, Evidence: model.Evidence{Notes: []string{note}}})
	} else {
		ev.Notes = append(ev.Notes, "the runtime's goroutineleak profile does not list "+f.Subject+": the goroutines wait on something still reachable (a long-lived channel or context), which the runtime cannot prove leaked")
	}
}

// SaveText keeps text read from r (at most max bytes) as a capture of
// kind for the finding with ID finding, such as the report of a crash of
// an earlier run.
func (c *Capturer) SaveText(kind, finding string, r io.Reader, max int64) (model.Capture, error) {
	return c.save(kind, "text", finding, func(w io.Writer) error {
		_, err := io.Copy(w, io.LimitReader(r, max))
		return err
	})
}

// save writes one capture atomically (a temporary file renamed into
// place), adds it to the index and enforces the bounds.
func (c *Capturer) save(kind, format, finding string, write func(io.Writer) error) (model.Capture, error) {
	cp, err := c.write(kind, format, finding, write)
	if err != nil {
		c.failed.Add(1)
	}
	return cp, err
}

// Stats counts the bounds a Capturer hit since New.
type Stats struct {
	// RateLimited counts findings whose evidence was not captured
	// because their detector's rate limit was spent.
	RateLimited uint64
	// QueueFull counts slow capture sets (profiles) dropped because the
	// queue was full.
	QueueFull uint64
	// Failed counts captures that could not be written (directory
	// unwritable or full).
	Failed uint64
	// Evicted counts old captures deleted to stay within MaxFiles and
	// MaxBytes.
	Evicted uint64
}

// Stats returns the bounds hit so far.
func (c *Capturer) Stats() Stats {
	return Stats{RateLimited: c.rateLimited.Load(), QueueFull: c.queueFull.Load(), Failed: c.failed.Load(), Evicted: c.evicted.Load()}
}

// write is save without the failure count.
func (c *Capturer) write(kind, format, finding string, write func(io.Writer) error) (model.Capture, error) {
	now := time.Now().UTC()
	c.mu.Lock()
	c.seq++
	id := fmt.Sprintf("%s-%03d-%s", now.Format("20060102T150405Z"), c.seq%1000, kind)
	c.mu.Unlock()
	path := filepath.Join(c.opts.Dir, capturePrefix+id+extOf(format))
	if err := os.MkdirAll(c.opts.Dir, 0o700); err != nil {
		return model.Capture{}, fmt.Errorf("capture %s: %w", kind, err)
	}
	tmp, err := os.CreateTemp(c.opts.Dir, ".tmp-"+capturePrefix)
	if err != nil {
		return model.Capture{}, fmt.Errorf("capture %s: %w", kind, err)
	}
	err = write(tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	var st os.FileInfo
	if err == nil {
		st, err = os.Stat(tmp.Name())
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return model.Capture{}, fmt.Errorf("capture %s: %w", kind, err)
	}
	cp := model.Capture{ID: id, Kind: kind, Time: now, Bytes: st.Size(), Finding: finding, Format: format}
	c.mu.Lock()
	c.index = append(c.index, captureFile{cp, path})
	c.enforceLocked()
	c.mu.Unlock()
	return cp, nil
}

// enforceLocked deletes the oldest captures beyond the bounds.
func (c *Capturer) enforceLocked() {
	var total int64
	for _, f := range c.index {
		total += f.Bytes
	}
	for len(c.index) > 0 && (len(c.index) > c.opts.MaxFiles || total > c.opts.MaxBytes) {
		old := c.index[0]
		if err := os.Remove(old.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			c.log.Warn("capture not removed", "path", old.path, "err", err)
		}
		total -= old.Bytes
		c.index = c.index[1:]
		c.evicted.Add(1)
	}
}

// loadIndex indexes captures left in Dir by an earlier run, so the bounds
// hold across restarts.
func (c *Capturer) loadIndex() {
	ents, err := os.ReadDir(c.opts.Dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		name := e.Name()
		if !strings.HasPrefix(name, capturePrefix) || e.IsDir() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		id, format := splitExt(strings.TrimPrefix(name, capturePrefix))
		kind := id[strings.LastIndexByte(id, '-')+1:]
		c.index = append(c.index, captureFile{model.Capture{
			ID: id, Kind: kind, Time: info.ModTime().UTC(), Bytes: info.Size(), Format: format,
		}, filepath.Join(c.opts.Dir, name)})
	}
	slices.SortFunc(c.index, func(a, b captureFile) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.ID, b.ID))
	})
	c.enforceLocked()
}

// FileName returns the name of a capture's file, as the agent offers it
// for download.
func FileName(cp model.Capture) string {
	return capturePrefix + cp.ID + extOf(cp.Format)
}

func extOf(format string) string {
	switch format {
	case "pprof":
		return ".pb.gz"
	case "trace":
		return ".trace"
	}
	return ".txt"
}

func splitExt(name string) (id, format string) {
	for _, e := range []struct{ ext, format string }{{".pb.gz", "pprof"}, {".trace", "trace"}, {".txt", "text"}} {
		if s, ok := strings.CutSuffix(name, e.ext); ok {
			return s, e.format
		}
	}
	return name, "text"
}

// List returns the captures, newest first.
func (c *Capturer) List() []model.Capture {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]model.Capture, 0, len(c.index))
	for i := len(c.index) - 1; i >= 0; i-- {
		out = append(out, c.index[i].Capture)
	}
	return out
}

// Open returns the capture with id and its file, opened; the error is
// os.ErrNotExist for an unknown id.
func (c *Capturer) Open(id string) (model.Capture, *os.File, error) {
	c.mu.Lock()
	var found *captureFile
	for i := range c.index {
		if c.index[i].ID == id {
			found = &c.index[i]
			break
		}
	}
	var cp captureFile
	if found != nil {
		cp = *found
	}
	c.mu.Unlock()
	if found == nil {
		return model.Capture{}, nil, os.ErrNotExist
	}
	f, err := os.Open(cp.path)
	return cp.Capture, f, err
}

package goroutines

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/collectors/dump"
	"github.com/asyncmon/asyncmon/internal/cputime"
	"github.com/asyncmon/asyncmon/model"
)

// ErrRateLimited is returned by [Collector.Dump] when the last full
// dump is more recent than Options.DumpInterval.
var ErrRateLimited = errors.New("full goroutine dump rate limited")

// Defaults of Options, and why.
const (
	// defaultCPUBudget is 1% of one core: a refresh that takes 300 ms
	// (100k parked goroutines on a busy 2-core machine) runs at most every
	// 30 s.
	defaultCPUBudget = 0.01
	// defaultMinInterval keeps small processes from refreshing on every
	// collection when a refresh costs nothing.
	defaultMinInterval = 2 * time.Second
	// defaultMaxPause is the longest stop-the-world a refresh may cause.
	defaultMaxPause = time.Millisecond
	// defaultDumpInterval rate-limits full (stop-the-world) dumps.
	defaultDumpInterval = time.Minute
	// initialPausePerGoroutine is the stop-the-world cost of a full dump
	// per goroutine before one was measured: 2.8 s at 100k goroutines
	// on the reference machine, rounded up.
	initialPausePerGoroutine = 30 * time.Microsecond
	// defaultLeakInterval spaces the goroutineleak profile, which costs
	// a GC cycle, where its pause is above the bound, and rechecks
	// groups it did not prove leaked.
	defaultLeakInterval = 5 * time.Minute
	// maxDumpBytes is where the runtime itself stops a debug=2 dump.
	maxDumpBytes = 64 << 20
)

// Options configures the live goroutine collector. The zero
// value works.
type Options struct {
	// Group configures the group table. Optional. The default key is
	// KeyStart|KeyWaitReason|KeyTopFrames: the concurrent profile has no
	// creation site, and a key that a full dump alone could fill would
	// change whenever the collector switches source.
	Group GroupOptions
	// CPUBudget is the average share of one core that refreshing the
	// table may use: the next refresh waits d/CPUBudget, where d is the
	// least cost of the last three refreshes (see refreshInterval): the
	// CPU time of the refreshing thread on Linux, wall time elsewhere.
	// Optional. Default 0.01 (1%).
	CPUBudget float64
	// MinInterval is the shortest time between refreshes. Optional.
	// Default 2s.
	MinInterval time.Duration
	// MaxPause is the longest stop-the-world pause a refresh may cause.
	// A full dump (which stops the world for its whole walk) is used for
	// the table only while its predicted pause, from the last measured
	// pause per goroutine, stays under MaxPause: in practice a few dozen
	// goroutines. Otherwise the concurrent goroutine profile is used,
	// whose pause does not grow with the goroutine count. Optional.
	// Default 1ms. Negative: never use full dumps for the table.
	MaxPause time.Duration
	// DumpInterval is the shortest time between two full dumps taken by
	// Dump. Optional. Default 1m.
	DumpInterval time.Duration
	// SuspectAfter is how long a group must stay blocked on a channel,
	// select, lock, sync.WaitGroup or sync.Cond with no fewer members
	// before the collector asks the runtime's goroutineleak profile
	// whether it leaked. Optional. Default 15s.
	SuspectAfter time.Duration
	// LeakEvery is the shortest time between two reads of the
	// goroutineleak profile while suspects wait; the CPU budget may
	// space them further (each read runs a full GC cycle). Optional.
	// Default 10s.
	LeakEvery time.Duration
	// LeakMaxPause bounds the stop-the-world pause expected from a read
	// (it grows with the goroutine count; predicted from the last
	// measured one). Where even the lowest per-goroutine pause (0.5 µs)
	// would exceed it, at 10k goroutines or more at the default, no read
	// is taken on suspicion: Snapshot.LeakCheck.Limited says so, and
	// CheckLeaks reads on request. Where only the last measured pause
	// exceeds it, reads are spaced to one per LeakInterval, so the
	// figure is measured again. Optional. Default 5ms. Negative: no
	// bound.
	LeakMaxPause time.Duration
	// LeakInterval is the spacing of reads when the measured pause is
	// above LeakMaxPause (see there), and how long a group checked and not proven
	// leaked waits before it is checked again (unless it grows; the
	// first recheck comes after a minute). The
	// profile, which marks goroutines blocked on primitives no other
	// goroutine can reach (GoroutineGroup.Leaked), exists in Go 1.27,
	// and in Go 1.26 with GOEXPERIMENT=goroutineleakprofile (the
	// collector probes for it). Optional. Default 5m. Negative: never
	// read it.
	LeakInterval time.Duration
	// Logger receives debug messages about refreshes. Optional. Default
	// silent.
	Logger *slog.Logger
}

// Collector is the live goroutine collector: a model.Collector that
// fills Snapshot.Groups, GroupsTime, GroupsTruncated, GroupsTotal,
// GroupsSource, GroupsCostSeconds and Goroutines.ByWaitReason.
//
// # Cost
//
// A goroutine dump with stacks (pprof debug=2) stops the world for its
// whole walk, which grows with the goroutine count (docs/goroutines.md
// and docs/perf.md have the measured figures). The
// collector therefore builds the table from the concurrent goroutine
// profile (the runtime's goroutineProfileWithLabels, which pprof's
// debug=1 text prints), whose stop-the-world part is a fixed,
// sub-millisecond step; the stacks are then walked while the world runs.
// On Go 1.26 and 1.27 the profile is read as records, aggregated on the
// raw program counters and label sets, rather than formatted as text by
// pprof and parsed back, which cost about three times the CPU and ten
// times the allocations (records.go; docs/perf.md has the figures). The profile has no goroutine IDs,
// wait reasons, wait times or creation sites: the collector symbolises
// the stacks' program counters in-process (cached per PC), infers the
// wait reason from the runtime frames (see [dump.InferWaitReason]) and keys
// groups by start function instead of creation site. A refresh is
// skipped until the CPU budget allows it, so the table may be older than
// the snapshot: GroupsTime says when it was taken.
//
// Collect and Dump may be called from different goroutines.
type Collector struct {
	opts Options

	mu sync.Mutex // guards everything below
	// grouper keeps the previous table for deltas.
	grouper *Grouper
	table   *GroupTable
	when    time.Time
	next    time.Time
	// pausePerG is the measured stop-the-world cost of a full dump per
	// goroutine.
	pausePerG time.Duration
	lastDump  time.Time
	symbols   map[uintptr][]model.Frame
	// leaks counts leaked goroutines per stack ("@" PCs text) from the
	// last goroutineleak profile; lastLeak is when it was read, leakCost
	// what it cost the budget (leakCPU), leakPause the pause measured at leakPauseN
	// goroutines.
	leaks      map[string]int
	lastLeak   time.Time
	leakCost   time.Duration
	leakPause  time.Duration
	leakPauseN int
	leakCheck  model.LeakCheck
	// suspects are the blocked groups, by key (see leakcheck.go).
	suspects map[string]*suspect
	born     time.Time
	stats    Stats
	buf      bytes.Buffer
	agg      aggregator
	// textProfile makes the table from pprof's debug=1 text even where
	// the profile can be read as records (tests and benchmarks compare
	// the two).
	textProfile bool

	// costs are the costs of the last refreshes (CPU time where the
	// platform tells, else wall time), newest last, at most costSamples.
	costs []time.Duration
}

// Stats describes the collector's own cost.
type Stats struct {
	// Refreshes counts table refreshes; FullDumps those made from a
	// full (stop-the-world) dump.
	Refreshes int
	FullDumps int
	// LastCost is the wall time of the last refresh, LastPause the
	// longest stop-the-world pause seen during it (from the runtime's
	// /sched/pauses/total/other:seconds histogram, so to its bucket
	// precision and including pauses by others).
	LastCost  time.Duration
	LastPause time.Duration
	// LastCPU is what the CPU budget counted of the last refresh: the
	// refreshing thread's CPU time on Linux, LastCost elsewhere.
	LastCPU time.Duration
	// Interval is the wait before the next refresh the budget allows.
	Interval time.Duration
	// Source is "profile" or "dump" for the last refresh.
	Source string
}

// NewCollector returns the live goroutine collector.
func NewCollector(opts Options) *Collector {
	if opts.Group.Key == 0 {
		opts.Group.Key = KeyStart | KeyWaitReason | KeyTopFrames
	}
	if opts.CPUBudget <= 0 {
		opts.CPUBudget = defaultCPUBudget
	}
	if opts.MinInterval <= 0 {
		opts.MinInterval = defaultMinInterval
	}
	if opts.MaxPause == 0 {
		opts.MaxPause = defaultMaxPause
	}
	if opts.DumpInterval <= 0 {
		opts.DumpInterval = defaultDumpInterval
	}
	if opts.LeakInterval == 0 {
		opts.LeakInterval = defaultLeakInterval
	}
	if opts.SuspectAfter <= 0 {
		opts.SuspectAfter = defaultSuspectAfter
	}
	if opts.LeakEvery <= 0 {
		opts.LeakEvery = defaultLeakEvery
	}
	if opts.LeakMaxPause == 0 {
		opts.LeakMaxPause = defaultLeakMaxPause
	}
	return &Collector{
		opts:      opts,
		grouper:   NewGrouper(opts.Group),
		pausePerG: initialPausePerGoroutine,
		symbols:   make(map[uintptr][]model.Frame),
		born:      time.Now(),
	}
}

// Name implements model.Collector.
func (c *Collector) Name() string { return "goroutines" }

// Collect implements model.Collector. It refreshes the group table when
// the CPU budget allows and copies the latest table into s.
func (c *Collector) Collect(ctx context.Context, s *model.Snapshot) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	if now := time.Now(); c.table == nil || !now.Before(c.next) {
		err = c.refresh(ctx, now)
	}
	if c.table != nil {
		c.table.Fill(s, c.when)
		s.GroupsSource = c.stats.Source
		s.GroupsCostSeconds = c.stats.LastCost.Seconds()
		lc := c.leakCheck
		s.LeakCheck = &lc
	}
	return err
}

// Refresh forces a refresh now, whatever the budget, and returns the new
// table. It is for tests and for explicit requests.
func (c *Collector) Refresh(ctx context.Context) (*GroupTable, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.refresh(ctx, time.Now())
	return c.table, err
}

// Stats returns the collector's cost figures.
func (c *Collector) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

func (c *Collector) refresh(ctx context.Context, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	pauses := newPauseProbe(pauseMetric)
	n := runtime.NumGoroutine()
	var t *GroupTable
	var err error
	full := c.opts.MaxPause > 0 && time.Duration(n)*c.pausePerG < c.opts.MaxPause
	// Before the stacks: the leak profile's GC also marks the leaked
	// goroutines "(leaked)" in the headers of a full dump. It is read
	// when the last table had suspects (see leakcheck.go), on a budget
	// of its own: its cost must not space out the table's refreshes.
	// The budget counts the refresh's CPU time on this thread where the
	// platform tells (internal/cputime): wall time also counts the wait
	// for a core, which on a loaded machine is many times more.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpuStart, cpuOK := cputime.Thread()
	leakStart := time.Now()
	leakCPU, _ := cputime.Thread()
	c.readLeaks(now)
	leakTime := time.Since(leakStart)
	if t, ok := cputime.Thread(); ok {
		leakCPU = t - leakCPU
	}
	if full {
		var d *dump.Dump
		d, err = c.fullDump()
		if d != nil {
			t = c.grouper.Group(d.Goroutines)
		}
	} else {
		t, err = c.profileTable()
	}
	cost := time.Since(now) - leakTime
	spent := cost
	if cpuEnd, ok := cputime.Thread(); ok && cpuOK && cputime.PerThread {
		spent = max(cpuEnd-cpuStart-leakCPU, 0)
	}
	pause := pauses.max()
	if full && n > 0 && pause > 0 {
		// Learn the real pause per goroutine, rounded up by the
		// histogram bucket; never below a floor so one lucky sample
		// does not open the gate to large dumps.
		c.pausePerG = max(pause/time.Duration(n), time.Microsecond)
		c.stats.FullDumps++
	}
	if len(c.costs) == costSamples {
		c.costs = append(c.costs[:0], c.costs[1:]...)
	}
	c.costs = append(c.costs, spent)
	interval := refreshInterval(c.costs, c.opts.MinInterval, c.opts.CPUBudget)
	c.next = now.Add(interval)
	c.stats.Refreshes++
	c.stats.LastCost, c.stats.LastPause, c.stats.Interval = cost, pause, interval
	c.stats.LastCPU = spent
	c.stats.Source = "profile"
	if full {
		c.stats.Source = "dump"
	}
	if t != nil {
		c.table, c.when = t, now
		c.trackSuspects(t, now)
	}
	if c.opts.Logger != nil {
		c.opts.Logger.Debug("goroutine groups refreshed", "goroutines", n, "groups", c.tableTotal(),
			"source", c.stats.Source, "cost", cost, "pause", pause, "next", interval)
	}
	return err
}

func (c *Collector) tableTotal() int {
	if c.table == nil {
		return 0
	}
	return c.table.Total
}

// profileTable builds the table from the concurrent goroutine profile:
// read as records where the build can (records.go), else as pprof's
// debug=1 text.
func (c *Collector) profileTable() (*GroupTable, error) {
	var rs []dump.ProfileRecord
	var err error
	if haveRecords && !c.textProfile {
		rs, _ = c.agg.readRecords()
	} else {
		var d *dump.Dump
		if d, err = c.textProfileDump(); d == nil {
			return nil, err
		}
		rs = d.Records
	}
	if len(c.leaks) > 0 {
		for i := range rs {
			rs[i].Leaked = c.leaks[pcsKey(rs[i].PCs)]
		}
	}
	c.symbolize(rs)
	if len(c.symbols) > 1<<16 {
		// Code is finite, but keep the cache bounded anyway (plugins,
		// generated code): start over.
		c.symbols = make(map[uintptr][]model.Frame)
	}
	return c.grouper.GroupRecords(rs), err
}

// textProfileDump reads the concurrent goroutine profile as pprof's
// debug=1 text and parses it back.
func (c *Collector) textProfileDump() (*dump.Dump, error) {
	c.buf.Reset()
	if err := pprof.Lookup("goroutine").WriteTo(&c.buf, 1); err != nil {
		return nil, fmt.Errorf("goroutine profile: %w", err)
	}
	d, err := dump.Parse(&c.buf)
	if d == nil {
		return nil, err
	}
	if err != nil && !errors.Is(err, dump.ErrNoGoroutines) {
		err = fmt.Errorf("goroutine profile: %w", err)
	} else {
		err = nil
	}
	return d, err
}

// aggregator holds what reading the profile as records reuses from one
// refresh to the next.
type aggregator struct {
	key []byte // map key being built
}

// costSamples is how many refreshes the interval is computed from, and
// settleInterval the longest interval until that many were measured.
const (
	costSamples    = 3
	settleInterval = 5 * time.Second
)

// refreshInterval is the wait before the next refresh, from the costs
// of the last refreshes (newest last): the least of them over the CPU
// budget. Where a cost is wall time (no per-thread CPU clock), it is the
// CPU plus the time the refresh waited for a core, which on a loaded
// machine is many times more (a first refresh of 10 groups took 294 ms
// on the 2-core machine at load 20, then 1 to 70 ms); the least of the
// last few is the closest to its CPU. Even CPU time is highest at the
// first refresh, which symbolises every program counter once. Until
// costSamples were measured the interval is at most
// settleInterval, so that one slow start (a cold symbol cache, a busy
// moment) does not leave the table unrefreshed for half a minute: the
// detectors need tables from a leak's first seconds to judge it within
// a minute.
func refreshInterval(costs []time.Duration, minInterval time.Duration, budget float64) time.Duration {
	least := slices.Min(costs)
	interval := max(minInterval, time.Duration(float64(least)/budget))
	if len(costs) < costSamples {
		interval = min(interval, max(minInterval, settleInterval))
	}
	return interval
}

// pcsKey is a map key for a stack of PCs.
func pcsKey(pcs []uintptr) string {
	return string(appendPCs(make([]byte, 0, 8*len(pcs)), pcs))
}

// appendPCs appends the bytes of pcs to b.
func appendPCs(b []byte, pcs []uintptr) []byte {
	for _, pc := range pcs {
		b = binary.LittleEndian.AppendUint64(b, uint64(pc))
	}
	return b
}

// symbolize replaces the frames pprof printed (it hides the runtime's
// own, which the wait reason is inferred from) with the full stack of the
// records' PCs, and infers the wait reason from it.
func (c *Collector) symbolize(rs []dump.ProfileRecord) {
	var frames []model.Frame
	for i := range rs {
		r := &rs[i]
		if len(r.PCs) == 0 {
			continue
		}
		frames = frames[:0]
		for _, pc := range r.PCs {
			frames = append(frames, c.framesOf(pc)...)
		}
		for len(frames) > 0 && frames[len(frames)-1].Func == "runtime.goexit" {
			frames = frames[:len(frames)-1]
		}
		r.Goroutine.Frames = append([]model.Frame(nil), frames...)
		r.Goroutine.WaitReason = dump.InferWaitReason(r.Goroutine.Frames)
		if w := r.Goroutine.WaitReason; (w == model.WaitChanRecv || w == model.WaitChanSend) && nilChanWait(r.PCs) {
			r.Goroutine.WaitReason = model.WaitNilChan
		}
	}
}

// framesOf returns the frames of one return PC, inlined calls expanded.
func (c *Collector) framesOf(pc uintptr) []model.Frame {
	if fs, ok := c.symbols[pc]; ok {
		return fs
	}
	var fs []model.Frame
	it := runtime.CallersFrames([]uintptr{pc})
	for {
		f, more := it.Next()
		if f.Function != "" || f.File != "" {
			fs = append(fs, model.Frame{Func: f.Function, File: f.File, Line: f.Line})
		}
		if !more {
			break
		}
	}
	c.symbols[pc] = fs
	return fs
}

// fullDump takes a debug=2 dump of all goroutines and parses it.
func (c *Collector) fullDump() (*dump.Dump, error) {
	return dump.Parse(bytes.NewReader(goroutineStacks()))
}

// goroutineStacks returns runtime.Stack(buf, true): the debug=2 text of
// every goroutine. Every call stops the world for a whole walk, so the
// buffer is sized for the goroutine count up front (2 KiB each, more than
// typical stacks print) instead of doubling from 1 MiB as pprof does,
// which costs seven walks at 100k goroutines. Like pprof it stops at
// 64 MiB.
func goroutineStacks() []byte {
	size := min(max(runtime.NumGoroutine()*2048, 1<<20), maxDumpBytes)
	for {
		b := make([]byte, size)
		n := runtime.Stack(b, true)
		if n < len(b) || size >= maxDumpBytes {
			return b[:n]
		}
		size = min(size*2, maxDumpBytes)
	}
}

// WriteDump writes the same text as pprof's goroutine profile at
// debug=2, with one stop-the-world walk instead of up to seven (see
// goroutineStacks). Use it for evidence captures.
func WriteDump(w io.Writer) error {
	_, err := w.Write(goroutineStacks())
	return err
}

// Dump takes a full goroutine dump (with IDs, wait reasons and minutes,
// creation sites and labels where the runtime prints them) for evidence or
// on request. It stops the world for the whole walk (docs/goroutines.md has
// the cost per goroutine), so it is rate limited to one per DumpInterval and returns
// ErrRateLimited in between.
func (c *Collector) Dump(ctx context.Context) (*dump.Dump, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	now := time.Now()
	if !c.lastDump.IsZero() && now.Sub(c.lastDump) < c.opts.DumpInterval {
		return nil, ErrRateLimited
	}
	c.lastDump = now
	return c.fullDump()
}

// pauseProbe reads the runtime's stop-the-world pause histogram before
// and after a piece of work.
type pauseProbe struct {
	s      []metrics.Sample
	before []uint64
}

const pauseMetric = "/sched/pauses/total/other:seconds"

func newPauseProbe(metric string) *pauseProbe {
	p := &pauseProbe{s: []metrics.Sample{{Name: metric}}}
	metrics.Read(p.s)
	if p.s[0].Value.Kind() == metrics.KindFloat64Histogram {
		p.before = append([]uint64(nil), p.s[0].Value.Float64Histogram().Counts...)
	}
	return p
}

// max returns the upper bound of the highest histogram bucket that grew
// since the probe was made: the longest pause, to bucket precision.
func (p *pauseProbe) max() time.Duration {
	if p.before == nil {
		return 0
	}
	metrics.Read(p.s)
	h := p.s[0].Value.Float64Histogram()
	for i := len(h.Counts) - 1; i >= 0; i-- {
		if i < len(p.before) && h.Counts[i] > p.before[i] {
			hi := h.Buckets[i+1]
			if hi > 1e9 { // +Inf
				hi = h.Buckets[i]
			}
			return time.Duration(hi * 1e9)
		}
	}
	return 0
}

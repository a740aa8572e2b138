package goroutines

import (
	"bytes"
	"fmt"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/collectors/dump"
	"github.com/asyncmon/asyncmon/internal/cputime"
	"github.com/asyncmon/asyncmon/model"
)

// leakProfileName is the runtime's goroutine leak profile: it exists in
// every Go 1.27 build, and in Go 1.26 builds with
// GOEXPERIMENT=goroutineleakprofile.
const leakProfileName = "goroutineleak"

// Defaults of the leak check options, and why.
const (
	// defaultSuspectAfter is how long a group must stay blocked with no
	// fewer members before the runtime is asked to prove it leaked: long
	// enough that goroutines handing work to each other have moved on,
	// short enough that a confirmed leak fires well within a minute.
	defaultSuspectAfter = 15 * time.Second
	// defaultLeakEvery is the shortest time between two reads of the
	// goroutineleak profile while suspects wait: each read runs a full
	// GC cycle.
	defaultLeakEvery = 10 * time.Second
	// defaultLeakMaxPause bounds the expected stop-the-world pause of a
	// read taken on suspicion. The leak-detection GC's pause grows with
	// the goroutine count (docs/perf.md: about 0.5 ms at 1k goroutines,
	// 4 to 13 ms at 10k, hundreds at 100k on a loaded 2-core machine), so
	// at defaults reads on suspicion stop at about 10k goroutines.
	defaultLeakMaxPause = 5 * time.Millisecond
	// initialLeakPausePerGoroutine predicts the pause before one was
	// measured at 1,000 goroutines or more (docs/perf.md, rounded up).
	initialLeakPausePerGoroutine = 500 * time.Nanosecond
	// leakLearnMin is the least goroutine count whose measured pause is
	// used to predict the next one: below it the fixed part of a GC
	// pause dominates and would inflate the per-goroutine figure.
	leakLearnMin = 1000
	// gcPauseMetric is the runtime's histogram of GC stop-the-world
	// pauses.
	gcPauseMetric = "/sched/pauses/total/gc:seconds"
)

// suspectWait reports the wait reasons of goroutines that wait for
// another goroutine to act: the waits the goroutineleak profile can prove
// hopeless.
func suspectWait(reason string) bool {
	switch reason {
	case model.WaitChanRecv, model.WaitChanSend, model.WaitSelect, model.WaitNilChan,
		model.WaitCond, model.WaitMutex, model.WaitWaitGroup:
		return true
	}
	return false
}

// suspect is what the collector remembers of one blocked group.
type suspect struct {
	since   time.Time // since when its count has not fallen
	count   int       // its count in the last table
	checked int       // its count at the last read that covered it (0: never)
	at      time.Time // when that read was
	reads   int       // how many reads have covered it
}

// trackSuspects updates the blocked groups from a new table taken at now:
// a group whose count fell made progress and starts over.
func (c *Collector) trackSuspects(t *GroupTable, now time.Time) {
	if c.suspects == nil {
		c.suspects = make(map[string]*suspect)
	}
	seen := make(map[string]bool, len(t.Groups))
	for i := range t.Groups {
		g := &t.Groups[i]
		if !suspectWait(g.WaitReason) || g.Labels[model.AgentLabel] != "" || g.Leaked >= g.Count {
			continue
		}
		seen[g.Key] = true
		s := c.suspects[g.Key]
		if s == nil || g.Count < s.count {
			s = &suspect{since: now}
			c.suspects[g.Key] = s
		}
		s.count = g.Count
	}
	for k := range c.suspects {
		if !seen[k] && !t.Truncated {
			delete(c.suspects, k) // gone: it made progress
		}
	}
	if len(c.suspects) > 4*max(len(t.Groups), 1) {
		clear(c.suspects) // a truncated table kept old keys; start over
	}
}

// firstRecheck is when a group a read did not prove leaked is checked
// again, once: what it waits on may have become unreachable since (its
// caller returned). After that, every LeakInterval.
const firstRecheck = time.Minute

// dueSuspects counts the groups that have been blocked for SuspectAfter
// and that no read has covered since they grew, or for firstRecheck (the
// first time) or LeakInterval.
func (c *Collector) dueSuspects(now time.Time) int {
	n := 0
	for _, s := range c.suspects {
		if now.Sub(s.since) < c.opts.SuspectAfter {
			continue
		}
		recheck := c.opts.LeakInterval
		if s.reads == 1 {
			recheck = min(firstRecheck, recheck)
		}
		if s.checked == 0 || s.count > s.checked || now.Sub(s.at) >= recheck {
			n++
		}
	}
	return n
}

// expectedLeakPause predicts the stop-the-world pause of a read with n
// goroutines, from the last read of at least leakLearnMin goroutines.
func (c *Collector) expectedLeakPause(n int) time.Duration {
	if c.leakPauseN >= leakLearnMin && c.leakPause > 0 {
		return time.Duration(float64(c.leakPause) * float64(n) / float64(c.leakPauseN))
	}
	return time.Duration(n) * initialLeakPausePerGoroutine
}

// readLeaks reads the goroutineleak profile when groups are suspected
// and the rate limit, the CPU budget and the pause bound allow.
func (c *Collector) readLeaks(now time.Time) {
	lc := &c.leakCheck
	if c.opts.LeakInterval < 0 {
		lc.Limited = "the goroutineleak profile is turned off (Options.LeakInterval < 0)"
		return
	}
	p := pprof.Lookup(leakProfileName)
	lc.Available = p != nil
	if p == nil {
		return
	}
	due := c.dueSuspects(now)
	lc.Suspects = due
	if due == 0 {
		return
	}
	n := runtime.NumGoroutine()
	gap := c.opts.LeakEvery
	lc.Limited = ""
	if pause := c.expectedLeakPause(n); c.opts.LeakMaxPause > 0 && pause > c.opts.LeakMaxPause {
		if time.Duration(n)*initialLeakPausePerGoroutine > c.opts.LeakMaxPause {
			// Even the lowest per-goroutine pause would break the bound:
			// the pause grows with the goroutine count (hundreds of ms at
			// 100k, seconds at 1M), so no read is taken on suspicion.
			lc.Limited = fmt.Sprintf("at %d goroutines a read's pause is expected to be %s, above the %s bound: not read on suspicion (Collector.CheckLeaks reads it on request)",
				n, pause.Round(10*time.Microsecond), c.opts.LeakMaxPause)
			return
		}
		// A small process whose last measured pause (perhaps a thread
		// the host had descheduled) was over the bound: read rarely, so
		// the figure is measured again.
		gap = c.opts.LeakInterval
		lc.Limited = fmt.Sprintf("at %d goroutines a read's pause is expected to be %s, above the %s bound: read at most every %s",
			n, pause.Round(10*time.Microsecond), c.opts.LeakMaxPause, c.opts.LeakInterval)
	}
	gap = max(gap, time.Duration(float64(c.leakCost)/c.opts.CPUBudget))
	last := c.lastLeak
	if last.IsZero() && lc.Limited != "" {
		last = c.born // over the bound, even the first read waits
	}
	if !last.IsZero() && now.Sub(last) < gap {
		return
	}
	c.takeLeakProfile(p, now, n)
}

// takeLeakProfile reads p, the goroutineleak profile, and refreshes
// c.leaks (leaked goroutines per stack) and c.leakCheck from it.
func (c *Collector) takeLeakProfile(p *pprof.Profile, now time.Time, n int) {
	probe := newPauseProbe(gcPauseMetric)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before := leakCPU()
	start := time.Now()
	var b bytes.Buffer
	err := p.WriteTo(&b, 1)
	wall := time.Since(start)
	c.leakCost = wall
	if after := leakCPU(); before.ok && after.ok {
		c.leakCost = max(after.d-before.d, 0)
	}
	c.lastLeak = now
	pause := probe.max()
	if n >= leakLearnMin && pause > 0 {
		c.leakPause, c.leakPauseN = pause, n
	}
	if err != nil {
		return
	}
	d, _ := dump.Parse(&b)
	leaks := make(map[string]int)
	total := 0
	if d != nil {
		for _, r := range d.Records {
			leaks[pcsKey(r.PCs)] += r.Count
			total += r.Count
		}
	}
	c.leaks = leaks
	c.leakCheck = model.LeakCheck{
		Available: true, Time: now, Goroutines: n, Leaked: total,
		PauseSeconds: pause.Seconds(), CostSeconds: wall.Seconds(), Limited: c.leakCheck.Limited,
	}
	for _, s := range c.suspects {
		s.checked, s.at = max(s.count, 1), now
		s.reads++
	}
}

// leakCPUMetrics are the runtime's estimates of the CPU a GC cycle takes
// from the program: its mark workers (dedicated, not the idle ones, which
// use CPU nobody else wanted), the assists and the pauses.
var leakCPUMetrics = []string{"/cpu/classes/gc/mark/dedicated:cpu-seconds", "/cpu/classes/gc/mark/assist:cpu-seconds", "/cpu/classes/gc/pause:cpu-seconds"}

// cpuReading is a CPU time so far, and whether the platform told it.
type cpuReading struct {
	d  time.Duration
	ok bool
}

// leakCPU returns the GC's CPU so far (leakCPUMetrics) plus the calling
// thread's (internal/cputime; the caller locks its thread): what a read of
// the goroutineleak profile, a forced GC cycle, costs is their growth.
// Its wall time also counts the wait for a core, many times more on a
// loaded machine, and spaced the reads by LeakEvery's tens of seconds
// there.
func leakCPU() cpuReading {
	thread, ok := cputime.Thread()
	if !ok || !cputime.PerThread {
		return cpuReading{}
	}
	s := make([]metrics.Sample, len(leakCPUMetrics))
	for i, name := range leakCPUMetrics {
		s[i].Name = name
	}
	metrics.Read(s)
	for _, x := range s {
		if x.Value.Kind() != metrics.KindFloat64 {
			return cpuReading{}
		}
		thread += time.Duration(x.Value.Float64() * 1e9)
	}
	return cpuReading{thread, true}
}

// CheckLeaks reads the goroutineleak profile now, whatever the suspects,
// the rate limit and the pause bound (it runs a full GC cycle, whose
// pause grows with the goroutine count), and marks the leaked goroutines
// in the table of the next Collect, which it makes refresh. It reports
// false when the runtime has no such profile (Go 1.26 without
// GOEXPERIMENT=goroutineleakprofile).
func (c *Collector) CheckLeaks() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := pprof.Lookup(leakProfileName)
	if p == nil {
		return false
	}
	now := time.Now()
	c.takeLeakProfile(p, now, runtime.NumGoroutine())
	c.next = now
	return true
}

// nilParkLines bounds how far into runtime.chanrecv or runtime.chansend
// the park on a nil channel sits: it is the function's first statement
// after a debug print (Go 1.26 and 1.27: 5 and 12 lines below the
// declaration), while the park of a real channel comes after the whole
// fast path, about a hundred lines further.
const nilParkLines = 30

// nilParks caches nilParkPC per program counter: PCs are fixed for the
// life of the process and only those in chanrecv and chansend are kept.
var nilParks sync.Map // uintptr → bool

// nilChanWait reports whether a goroutine whose frames say "chan receive"
// or "chan send" (the concurrent profile prints no wait reason) is in
// fact parked on a nil channel, from the line of its runtime.chanrecv or
// runtime.chansend frame. Such a goroutine can never wake; a full dump
// would print "(nil chan)".
func nilChanWait(pcs []uintptr) bool {
	for _, pc := range pcs {
		if v, ok := nilParks.Load(pc); ok {
			return v.(bool)
		}
		f := runtime.FuncForPC(pc - 1) // a return address: the call is just before it
		if f == nil {
			continue
		}
		switch f.Name() {
		case "runtime.chanrecv", "runtime.chansend":
			_, decl := f.FileLine(f.Entry())
			_, line := f.FileLine(pc - 1)
			onNil := line > decl && line-decl <= nilParkLines
			nilParks.Store(pc, onNil)
			return onNil
		case "runtime.chanrecv1", "runtime.chanrecv2", "runtime.chansend1":
			return false // the park frame, if any, came before
		}
	}
	return false
}

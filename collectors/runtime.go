package collectors

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/asyncmon/asyncmon/model"
)

// Runtime metric names the runtime collector reads. Names missing from the
// running Go version read as zero (the state breakdown is Go 1.26+).
const (
	rmGoroutines  = "/sched/goroutines:goroutines"
	rmGoRunnable  = "/sched/goroutines/runnable:goroutines"
	rmGoRunning   = "/sched/goroutines/running:goroutines"
	rmGoWaiting   = "/sched/goroutines/waiting:goroutines"
	rmGoNotInGo   = "/sched/goroutines/not-in-go:goroutines"
	rmGoCreated   = "/sched/goroutines-created:goroutines"
	rmThreads     = "/sched/threads/total:threads"
	rmGOMAXPROCS  = "/sched/gomaxprocs:threads"
	rmCPUTotal    = "/cpu/classes/total:cpu-seconds"
	rmCPUGC       = "/cpu/classes/gc/total:cpu-seconds"
	rmCPUAssist   = "/cpu/classes/gc/mark/assist:cpu-seconds"
	rmGCCycles    = "/gc/cycles/total:gc-cycles"
	rmHeapObjects = "/memory/classes/heap/objects:bytes"
	rmHeapGoal    = "/gc/heap/goal:bytes"
)

// Runtime reads goroutine counts by state, GC CPU share and process facts
// (CPU time, threads, file descriptors, cgroup CPU quota and throttling).
// It reads runtime/metrics and a few small /proc and /sys files on Linux;
// it takes no stop-the-world pause. Collect must be called from one
// goroutine at a time.
type Runtime struct {
	rm      *rtMetrics
	start   time.Time
	program string

	last       time.Time
	lastCPU    float64 // process CPU seconds
	lastTotal  float64 // runtime's total CPU-seconds capacity
	lastGC     float64
	lastAssist float64
	lastCreate uint64
	// lastHostBusy and lastHostTotal are the host's CPU ticks at the
	// last collection (readHostCPU).
	lastHostBusy, lastHostTotal uint64
}

// NewRuntime returns a runtime collector.
func NewRuntime() *Runtime {
	return &Runtime{
		rm: newRTMetrics(rmGoroutines, rmGoRunnable, rmGoRunning, rmGoWaiting,
			rmGoNotInGo, rmGoCreated, rmThreads, rmGOMAXPROCS, rmCPUTotal,
			rmCPUGC, rmCPUAssist, rmGCCycles, rmHeapObjects, rmHeapGoal),
		start:   time.Now(),
		program: filepath.Base(os.Args[0]),
	}
}

// Name implements model.Collector.
func (r *Runtime) Name() string { return "runtime" }

// Collect implements model.Collector. It fills s.Process, s.Goroutines and
// s.GC. A failure to read a /proc or /sys file leaves that field at zero
// and is returned after everything else has been filled.
func (r *Runtime) Collect(ctx context.Context, s *model.Snapshot) error {
	now := time.Now()
	r.rm.read()

	g := &s.Goroutines
	g.Total = int(r.rm.uint(rmGoroutines))
	if g.Total == 0 { // before Go 1.26's /sched/goroutines:goroutines
		g.Total = runtime.NumGoroutine()
	}
	g.Runnable = int(r.rm.uint(rmGoRunnable))
	g.Running = int(r.rm.uint(rmGoRunning))
	g.Waiting = int(r.rm.uint(rmGoWaiting))
	g.NotInGo = int(r.rm.uint(rmGoNotInGo))
	g.CreatedTotal = r.rm.uint(rmGoCreated)

	p := &s.Process
	p.PID = os.Getpid()
	p.Program = r.program
	p.GoVersion = runtime.Version()
	p.StartTime = r.start
	p.NumCPU = runtime.NumCPU()
	p.GOMAXPROCS = int(r.rm.uint(rmGOMAXPROCS))
	if p.GOMAXPROCS == 0 {
		p.GOMAXPROCS = runtime.GOMAXPROCS(0)
	}
	p.Threads = int(r.rm.uint(rmThreads))
	err := readProcess(p)
	hostBusy, hostTotal, herr := readHostCPU()
	if herr == nil && hostTotal > r.lastHostTotal && r.lastHostTotal > 0 {
		p.HostCPUBusy = float64(hostBusy-min(r.lastHostBusy, hostBusy)) / float64(hostTotal-r.lastHostTotal)
	}
	if herr == nil {
		r.lastHostBusy, r.lastHostTotal = hostBusy, hostTotal
	}

	gc := &s.GC
	gc.CyclesTotal = r.rm.uint(rmGCCycles)
	gc.HeapBytes = r.rm.uint(rmHeapObjects)
	gc.GoalBytes = r.rm.uint(rmHeapGoal)

	total := r.rm.float(rmCPUTotal)
	gcCPU := r.rm.float(rmCPUGC)
	assist := r.rm.float(rmCPUAssist)
	if !r.last.IsZero() {
		dt := now.Sub(r.last).Seconds()
		if dt > 0 {
			p.CPUUtilization = (p.CPUSecondsTotal - r.lastCPU) / dt
			g.CreatedRate = float64(g.CreatedTotal-r.lastCreate) / dt
		}
		// The runtime's CPU classes are estimates that advance at GC
		// cycles; between cycles the deltas can be zero.
		if dTotal := total - r.lastTotal; dTotal > 0 {
			gc.CPUFraction = (gcCPU - r.lastGC) / dTotal
			gc.AssistFraction = (assist - r.lastAssist) / dTotal
		}
	}
	r.last, r.lastCPU, r.lastTotal, r.lastGC, r.lastAssist = now, p.CPUSecondsTotal, total, gcCPU, assist
	r.lastCreate = g.CreatedTotal
	return err
}

package detectors

import (
	"fmt"
	"strings"
	"time"

	"github.com/asyncmon/asyncmon/findings"
	"github.com/asyncmon/asyncmon/model"
)

// StarvationName is the name of the starvation detector.
const StarvationName = "starvation"

// Causes of starvation, the values of Finding.Cause.
const (
	CauseThrottled      = "cpu-throttled"
	CauseGC             = "gc-bound"
	CauseSTW            = "stw-pauses"
	CauseSyscall        = "syscall-bound"
	CauseCPU            = "cpu-saturated"
	CauseHostContention = "host-contention"
)

// StarvationConfig holds the thresholds of the starvation detector. The
// zero value means the defaults documented on each field.
type StarvationConfig struct {
	// SchedLatencyP99 is the scheduler latency p99 over which one
	// interval counts as starved. Default 25ms: a runnable goroutine
	// normally gets a CPU within tens of microseconds, and 10ms is a
	// whole scheduler time slice; on a busy shared host a healthy
	// service still sees single intervals near 50ms, hence the margin
	// and the need for a sustained run (see docs/detectors/starvation.md).
	SchedLatencyP99 time.Duration
	// ProbeLagP99 is the timer probe lag p99 over which one interval
	// counts as starved. Default 50ms: on a 2-core host at load average
	// 7, a healthy service's timers woke up to 20-30ms late in one
	// interval out of ten; a starved one's, hundreds of ms.
	ProbeLagP99 time.Duration
	// Critical is the latency (either signal) over which a starved
	// interval is critical. Default 100ms.
	Critical time.Duration
	// Sustain is how far back the detector looks. Default 10s. When the
	// agent stretches its interval (under its CPU budget) so that fewer
	// than MinIntervals snapshots fall in Sustain, the last MinIntervals
	// snapshots are used instead.
	Sustain time.Duration
	// MinFraction is the share of intervals in Sustain that must be
	// starved, and MinIntervals their least number. Defaults 0.8 and 3:
	// one slow interval (a GC, a noisy neighbour) is not starvation.
	MinFraction  float64
	MinIntervals int

	// Verdict thresholds.

	// RunnablePerProc: runnable goroutines above this many per GOMAXPROCS
	// mean CPU saturation. Default 2.
	RunnablePerProc float64
	// CPUBusy: CPU utilisation above this share of the usable cores
	// (GOMAXPROCS, the cgroup quota, the CPU count, whichever is least)
	// means CPU saturation. Default 0.85.
	CPUBusy float64
	// GCFraction and AssistFraction: GC CPU or mark-assist CPU above these
	// shares mean the GC is the cause. Defaults 0.25 and 0.10.
	GCFraction     float64
	AssistFraction float64
	// PauseMax: a stop-the-world pause longer than this is the cause.
	// Default 10ms.
	PauseMax time.Duration
	// ThrottledFraction: a share of cgroup CPU periods throttled above
	// this means cgroup throttling. Default 0.10.
	ThrottledFraction float64
	// NotInGoPerProc: goroutines in syscalls or cgo above this many per
	// GOMAXPROCS, with threads growing, mean blocking syscalls. Default 1.
	NotInGoPerProc float64
	// HostContentionLevel is the level of a finding whose verdict is
	// host contention: the process barely uses its CPUs, yet its
	// goroutines and timers wait, because other processes take the
	// host's CPU. Default info: true, but not the service's fault, and
	// common on shared CI and developer machines. Set warning where the
	// service has the host to itself.
	HostContentionLevel model.Level
	// HostCPUBusy: the host's CPUs busy at least this share of the time
	// (model.Process.HostCPUBusy, averaged over the window) while the
	// process uses under half its usable cores, with few runnable
	// goroutines, means host contention, before long pauses or the
	// process's own scheduler latency. Default 0.9.
	HostCPUBusy float64
}

func (c StarvationConfig) withDefaults() StarvationConfig {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	deff := func(v *float64, d float64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.SchedLatencyP99, 25*time.Millisecond)
	def(&c.ProbeLagP99, 50*time.Millisecond)
	def(&c.Critical, 100*time.Millisecond)
	def(&c.Sustain, 10*time.Second)
	def(&c.PauseMax, 10*time.Millisecond)
	deff(&c.MinFraction, 0.8)
	deff(&c.RunnablePerProc, 2)
	deff(&c.CPUBusy, 0.85)
	deff(&c.GCFraction, 0.25)
	deff(&c.AssistFraction, 0.10)
	deff(&c.ThrottledFraction, 0.10)
	deff(&c.NotInGoPerProc, 1)
	deff(&c.HostCPUBusy, 0.9)
	if c.MinIntervals <= 0 {
		c.MinIntervals = 3
	}
	if c.HostContentionLevel.Rank() == 0 {
		c.HostContentionLevel = model.LevelInfo
	}
	return c
}

// Starvation reports sustained scheduler latency or timer lag: goroutines
// that are ready to run but wait for a CPU. It gives a verdict on the
// cause, with a recommendation.
type Starvation struct {
	cfg StarvationConfig
}

// NewStarvation returns a starvation detector; zero fields of cfg take
// their defaults.
func NewStarvation(cfg StarvationConfig) *Starvation {
	return &Starvation{cfg: cfg.withDefaults()}
}

// Name returns "starvation".
func (*Starvation) Name() string { return StarvationName }

// DefaultRule fires after 5s more of starvation (on top of Sustain) and
// resolves after 30s without.
func (*Starvation) DefaultRule() findings.Rule {
	return findings.Rule{For: 5 * time.Second, Clear: 30 * time.Second, Cooldown: 5 * time.Minute}
}

// starvedInterval reports whether s counts as starved, and its worse
// latency (seconds).
func (d *Starvation) starvedInterval(s *model.Snapshot) (bool, float64) {
	sc := s.Scheduler
	lat := 0.0
	starved := false
	if sc.LatencyCount > 0 {
		lat = sc.LatencyP99
		starved = sc.LatencyP99 > d.cfg.SchedLatencyP99.Seconds()
	}
	if sc.ProbeSamples > 0 {
		lat = max(lat, sc.ProbeLagP99)
		starved = starved || sc.ProbeLagP99 > d.cfg.ProbeLagP99.Seconds()
	}
	return starved, lat
}

// Detect implements [model.Detector].
func (d *Starvation) Detect(w model.Window) []model.Finding {
	latest := w.Latest()
	if latest == nil {
		return nil
	}
	recent := sinceTime(w, latest.Time.Add(-d.cfg.Sustain))
	if n := len(w.Snapshots); len(recent.Snapshots) < d.cfg.MinIntervals && n >= d.cfg.MinIntervals {
		recent = model.Window{Snapshots: w.Snapshots[n-d.cfg.MinIntervals:]}
	}
	var n, starved int
	var worstSched, worstProbe, sumSched, sumProbe float64
	var since time.Time
	for _, s := range recent.Snapshots {
		if s.Scheduler.LatencyCount == 0 && s.Scheduler.ProbeSamples == 0 {
			continue
		}
		n++
		ok, _ := d.starvedInterval(s)
		if !ok {
			continue
		}
		starved++
		if since.IsZero() {
			since = s.Time
		}
		worstSched = max(worstSched, s.Scheduler.LatencyP99)
		worstProbe = max(worstProbe, s.Scheduler.ProbeLagP99)
		sumSched += s.Scheduler.LatencyP99
		sumProbe += s.Scheduler.ProbeLagP99
	}
	if starved < d.cfg.MinIntervals || float64(starved) < d.cfg.MinFraction*float64(n) {
		return nil
	}
	// The condition is sustained; find when this run of starved intervals
	// began, further back than Sustain if it did.
	for i := len(w.Snapshots) - 1; i >= 0; i-- {
		s := w.Snapshots[i]
		if ok, _ := d.starvedInterval(s); !ok && (s.Scheduler.LatencyCount > 0 || s.Scheduler.ProbeSamples > 0) {
			break
		}
		since = s.Time
	}

	v := d.verdict(recent)
	level := model.LevelWarning
	if max(worstSched, worstProbe) > d.cfg.Critical.Seconds() {
		level = model.LevelCritical
	}
	if v.cause == CauseHostContention {
		level = d.cfg.HostContentionLevel
	}
	num := v.numbers
	num["sched_latency_p99_max_seconds"] = worstSched
	num["sched_latency_p99_mean_seconds"] = sumSched / float64(starved)
	num["probe_lag_p99_max_seconds"] = worstProbe
	num["probe_lag_p99_mean_seconds"] = sumProbe / float64(starved)
	num["starved_intervals"] = float64(starved)
	num["intervals"] = float64(n)
	num["gomaxprocs"] = float64(latest.Process.GOMAXPROCS)

	summary := fmt.Sprintf(
		"Goroutines wait for a CPU: scheduler latency p99 up to %s and timer lag p99 up to %s in %d of the last %d intervals, since %s. Verdict: %s. %s",
		model.FormatSeconds(worstSched), model.FormatSeconds(worstProbe), starved, n, since.UTC().Format(time.RFC3339), v.explain, v.advice)
	notes := []string{"verdict: " + v.cause + ": " + v.explain, "what to do: " + v.advice}
	if len(v.also) > 0 {
		notes = append(notes, "also seen: "+strings.Join(v.also, ", "))
	}
	return []model.Finding{{
		ID:       model.FindingID(StarvationName, "process"),
		Detector: StarvationName,
		Level:    level,
		Title:    "Scheduler starvation (" + v.cause + ")",
		Summary:  summary,
		Subject:  "process",
		Cause:    v.cause,
		Evidence: model.Evidence{Numbers: num, Notes: notes},
	}}
}

// verdict is the starvation detector's judgement of the cause.
type verdict struct {
	cause   string
	explain string
	advice  string
	also    []string
	numbers map[string]float64
}

// verdict sorts the starvation in w into a cause, clinic-doctor style:
// the most specific cause that holds wins, and the others are listed.
func (d *Starvation) verdict(w model.Window) verdict {
	first, last := w.Oldest(), w.Latest()
	n := float64(len(w.Snapshots))
	var runnable, notInGo, cpu, gcFrac, assist, pause, cpuN, maxSched, hostCPU, hostN float64
	for _, s := range w.Snapshots {
		if s.Process.HostCPUBusy > 0 {
			hostCPU += s.Process.HostCPUBusy
			hostN++
		}
		if s.Scheduler.LatencyCount > 0 {
			maxSched = max(maxSched, s.Scheduler.LatencyP99)
		}
		runnable += float64(s.Goroutines.Runnable)
		notInGo += float64(s.Goroutines.NotInGo)
		if s.Process.CPUUtilization > 0 { // zero: no previous sample
			cpu += s.Process.CPUUtilization
			cpuN++
		}
		gcFrac += s.GC.CPUFraction
		assist += s.GC.AssistFraction
		pause = max(pause, s.Scheduler.PauseMax)
	}
	runnable, notInGo, gcFrac, assist = runnable/n, notInGo/n, gcFrac/n, assist/n
	if cpuN > 0 {
		cpu /= cpuN
	}
	if hostN > 0 {
		hostCPU /= hostN
	}
	procs := float64(max(last.Process.GOMAXPROCS, 1))
	usable := procs
	if last.Process.NumCPU > 0 {
		usable = min(usable, float64(last.Process.NumCPU))
	}
	var quota, throttled float64
	if cg := last.Process.Cgroup; cg != nil {
		quota = cg.QuotaCores
		if quota > 0 {
			usable = min(usable, quota)
		}
		if fc := first.Process.Cgroup; fc != nil {
			if dp := cg.PeriodsTotal - fc.PeriodsTotal; dp > 0 {
				throttled = float64(cg.ThrottledPeriodsTotal-fc.ThrottledPeriodsTotal) / float64(dp)
			}
		}
	}
	threadsGrew := last.Process.Threads - first.Process.Threads

	num := map[string]float64{
		"runnable_goroutines_mean":   runnable,
		"not_in_go_goroutines_mean":  notInGo,
		"cpu_utilization_cores_mean": cpu,
		"usable_cores":               usable,
		"gc_cpu_fraction_mean":       gcFrac,
		"gc_assist_fraction_mean":    assist,
		"stw_pause_max_seconds":      pause,
		"threads":                    float64(last.Process.Threads),
		"threads_growth":             float64(threadsGrew),
	}
	if hostN > 0 {
		num["host_cpu_busy_mean"] = hostCPU
	}
	if last.Process.Cgroup != nil {
		num["cgroup_quota_cores"] = quota
		num["cgroup_throttled_period_fraction"] = throttled
	}

	var vs []verdict
	if throttled > d.cfg.ThrottledFraction || (quota > 0 && procs > quota+1) {
		vs = append(vs, verdict{
			cause:   CauseThrottled,
			explain: fmt.Sprintf("the cgroup CPU limit throttles the process (%.0f%% of periods throttled, quota %.2f cores, GOMAXPROCS %d)", throttled*100, quota, int(procs)),
			advice:  "Raise the container's CPU limit, or make GOMAXPROCS match the quota (Go 1.25+ does so by default unless GOMAXPROCS is set in the environment) so the runtime does not run more threads than it may use.",
		})
	}
	if gcFrac > d.cfg.GCFraction || assist > d.cfg.AssistFraction {
		vs = append(vs, verdict{
			cause:   CauseGC,
			explain: fmt.Sprintf("the garbage collector takes %.0f%% of the CPU (mark assists %.0f%%)", gcFrac*100, assist*100),
			advice:  "Allocate less on the hot paths (look at the alloc_space heap profile), reuse buffers, and check GOGC and GOMEMLIMIT: a memory limit close to the live heap makes the GC run back to back.",
		})
	}
	if notInGo > d.cfg.NotInGoPerProc*procs && threadsGrew > 0 {
		vs = append(vs, verdict{
			cause:   CauseSyscall,
			explain: fmt.Sprintf("%.0f goroutines on average are in blocking system calls or cgo and the thread count grew by %d", notInGo, threadsGrew),
			advice:  "Find the blocking calls (goroutines in syscall in the goroutine dump): slow disks, file I/O on network mounts, cgo libraries or the cgo DNS resolver. Bound their concurrency with a semaphore, or move them off the request path.",
		})
	}
	if runnable > d.cfg.RunnablePerProc*procs || cpu > d.cfg.CPUBusy*usable {
		vs = append(vs, verdict{
			cause:   CauseCPU,
			explain: fmt.Sprintf("the process uses %.2f of its %.2f usable cores with %.0f runnable goroutines on average for GOMAXPROCS %d", cpu, usable, runnable, int(procs)),
			advice:  "Find the hot functions (the CPU profile taken when this fired names them), move CPU-heavy work off latency-sensitive paths or bound it with a worker pool, and add CPU or shed load.",
		})
	}
	// The host, not the process: the process barely uses its CPUs, and
	// its own run queue is quick (scheduler latency under threshold)
	// while timers wake late. The OS is not running the process's
	// threads; stop-the-world pauses then stretch too, waiting for
	// descheduled threads, so this comes before them.
	hostBusy := cpuN > 0 && cpu < 0.5*usable
	hostFirst := hostBusy && maxSched < d.cfg.SchedLatencyP99.Seconds()
	host := verdict{
		cause:   CauseHostContention,
		explain: fmt.Sprintf("the process uses only %.2f of its %.2f usable cores and its own run queue is quick (scheduler latency p99 at most %s), yet timers wake late: other processes on the host take the CPU", cpu, usable, model.FormatSeconds(maxSched)),
		advice:  "Check the host: load average, CPU steal time, other busy processes or containers on the node. Reserve CPU for the service or move it.",
	}
	// Measured directly: the host's CPUs are all but saturated while the
	// process uses little of its share, with few goroutines of its own
	// waiting to run. Whatever the process's scheduler latency and pauses
	// (the OS deschedules its threads, so both stretch), others take the
	// CPU.
	if !hostFirst && hostBusy && hostN > 0 && hostCPU >= d.cfg.HostCPUBusy && runnable <= d.cfg.RunnablePerProc*procs {
		hostFirst = true
		host.explain = fmt.Sprintf("the host's CPUs are %.0f%% busy while the process uses only %.2f of its %.2f usable cores with %.0f runnable goroutines on average: "+
			"other processes take the CPU, so the OS runs the process's threads late and its scheduler latency (p99 up to %s) and pauses (up to %s) stretch",
			hostCPU*100, cpu, usable, runnable, model.FormatSeconds(maxSched), model.FormatSeconds(pause))
	}
	if hostFirst {
		vs = append(vs, host)
	}
	// Pauses come after CPU saturation: a saturated (or throttled)
	// process takes long to stop the world, so long pauses there are a
	// symptom, not the cause.
	if pause > d.cfg.PauseMax.Seconds() {
		vs = append(vs, verdict{
			cause:   CauseSTW,
			explain: fmt.Sprintf("stop-the-world pauses up to %s", model.FormatSeconds(pause)),
			advice:  "Look for what stops the world: frequent runtime.ReadMemStats or full goroutine dumps over many goroutines, GOMAXPROCS changes, or very large heaps of pointers; a runtime/trace shows each pause and its cause.",
		})
	}
	if !hostFirst && (len(vs) == 0 || hostBusy) {
		host.explain = fmt.Sprintf("the process uses only %.2f of its %.2f usable cores, with no GC, pause, syscall or throttling cause: other processes on the host take the CPU", cpu, usable)
		vs = append(vs, host)
	}
	v := vs[0]
	for _, o := range vs[1:] {
		v.also = append(v.also, o.cause)
	}
	v.numbers = num
	return v
}

package model

import "time"

// Snapshot is everything asyncmon knows about a process at one collection.
// Collectors fill their own section; a section left at its zero value means
// that no collector provided it (see [Snapshot.Collectors] for why).
type Snapshot struct {
	// Seq increases by one for every collection of one agent.
	Seq uint64 `json:"seq"`
	// Time is when the collection started.
	Time time.Time `json:"time"`
	// IntervalSeconds is the time since the previous collection, the window
	// over which the "recent" values (latency quantiles, deltas) were taken.
	IntervalSeconds float64 `json:"interval_seconds"`
	// BudgetStretched is true when the agent's CPU budget made it wait
	// longer than its interval before this collection.
	BudgetStretched bool `json:"budget_stretched,omitempty"`

	Process    Process    `json:"process"`
	Scheduler  Scheduler  `json:"scheduler"`
	Goroutines Goroutines `json:"goroutines"`
	GC         GC         `json:"gc"`

	// GroupTable is the goroutine group table and what is known of it
	// (when it was taken, from where, at what cost, whether cut); its
	// fields read as the snapshot's own (s.Groups, s.GroupsTime) and sit
	// at the top level of the JSON.
	GroupTable
	// LeakCheck is the state of the runtime's goroutineleak profile as
	// the goroutine collector last read it (nil without that collector).
	LeakCheck *LeakCheck `json:"leak_check,omitempty"`

	Blocking    Blocking    `json:"blocking"`
	Connections Connections `json:"connections"`
	// Requests are the HTTP requests in flight, as seen by the optional
	// middleware, oldest first.
	Requests []Request `json:"requests,omitempty"`
	// RequestLoad counts the requests the middleware saw arrive and
	// finish, and those in flight.
	RequestLoad RequestLoad `json:"request_load"`
	// Panics are the panic sites recorded since the agent started (by
	// the middleware and the agent's deferred helper), most recent first.
	Panics []PanicSite `json:"panics,omitempty"`
	// NoDeadline are the sites of outbound HTTP and SQL calls made
	// through tracked wrappers with no deadline on their context, most
	// calls first.
	NoDeadline []CallSite `json:"no_deadline,omitempty"`
	// Crash is the latest crash of an earlier run of this program found
	// at start (see the agent's crash options), while it is recent.
	Crash *Crash `json:"crash,omitempty"`
	// Findings are the pending and firing findings after this
	// collection's detector pass, so that a stream of snapshots carries
	// them. To keep the history small they are headlines: Summary and
	// Evidence are left empty; /api/v1/findings serves them whole, with
	// the resolved ones.
	Findings []Finding `json:"findings,omitempty"`

	// Collectors reports the cost and the health of every collector in
	// this collection.
	Collectors []CollectorStatus `json:"collectors"`

	// Agent is the agent's own health: the bounds it hit to keep its
	// memory, disk and CPU bounded, and the API requests it refused.
	Agent AgentStatus `json:"agent"`
}

// AgentStatus is the agent's own health. Every count is cumulative since
// the agent started; hitting a bound is normal under load and costs only
// what the bound says (a refused request, a dropped event), never a crash.
type AgentStatus struct {
	// LimitsHit counts, per bound, how often the agent hit it: a stream
	// client refused, a slow stream reader's stale snapshot dropped, an
	// expensive request refused with 429, a capture not taken or
	// deleted, a table cut to its bound, a collector abandoned after its
	// timeout. The agent documents the keys (agent.LimitNames).
	LimitsHit map[string]uint64 `json:"limits_hit,omitempty"`
	// Denied counts API requests refused for their credentials, per
	// reason (no token, wrong token, peer user).
	Denied map[string]uint64 `json:"denied,omitempty"`
	// StopTheWorldDumps counts the full goroutine dumps the API took on
	// request (each stops the world for its walk).
	StopTheWorldDumps uint64 `json:"stop_the_world_dumps,omitempty"`
	// HungCollectors names the collectors that did not return within
	// their timeout; they are skipped until they return.
	HungCollectors []string `json:"hung_collectors,omitempty"`
}

// Process describes the process as a whole.
type Process struct {
	PID       int    `json:"pid"`
	Program   string `json:"program"`
	GoVersion string `json:"go_version"`
	// StartTime is when the agent started, a close stand-in for the
	// process start that needs no /proc.
	StartTime  time.Time `json:"start_time"`
	NumCPU     int       `json:"num_cpu"`
	GOMAXPROCS int       `json:"gomaxprocs"`
	Threads    int       `json:"threads"`
	// CPUSecondsTotal is user+system CPU time used by the process.
	CPUSecondsTotal float64 `json:"cpu_seconds_total"`
	// CPUUtilization is CPU used over the last interval divided by
	// wall time, in cores (2.0 means two cores busy).
	CPUUtilization float64 `json:"cpu_utilization"`
	// FDs is the number of open file descriptors, FDLimit the soft
	// RLIMIT_NOFILE. Zero where the platform does not tell.
	FDs     int `json:"fds"`
	FDLimit int `json:"fd_limit"`
	// HostCPUBusy is the share of the host's CPU time, all CPUs, that was
	// busy over the last interval (0 to 1; from /proc/stat, counting steal
	// time as busy): near 1 while the process itself uses little, other
	// processes take the CPU. Zero where the platform does not tell.
	HostCPUBusy float64 `json:"host_cpu_busy,omitempty"`
	// Cgroup is filled where the process runs in a cgroup v2 with a
	// CPU controller.
	Cgroup *Cgroup `json:"cgroup,omitempty"`
}

// Cgroup is the cgroup v2 CPU controller state.
type Cgroup struct {
	// QuotaCores is cpu.max quota/period; 0 means no quota.
	QuotaCores float64 `json:"quota_cores"`
	// PeriodsTotal, ThrottledPeriodsTotal and ThrottledSecondsTotal come
	// from cpu.stat (nr_periods, nr_throttled, throttled_usec).
	PeriodsTotal          int64   `json:"periods_total"`
	ThrottledPeriodsTotal int64   `json:"throttled_periods_total"`
	ThrottledSecondsTotal float64 `json:"throttled_seconds_total"`
}

// Scheduler holds scheduler latency: how long runnable goroutines waited
// for a CPU, and how late a timer woke.
type Scheduler struct {
	// Latency quantiles over the last interval, from the runtime's
	// /sched/latencies:seconds histogram deltas. Zero when no goroutine
	// was scheduled in the interval.
	LatencyP50 float64 `json:"latency_p50_seconds"`
	LatencyP90 float64 `json:"latency_p90_seconds"`
	LatencyP99 float64 `json:"latency_p99_seconds"`
	LatencyMax float64 `json:"latency_max_seconds"`
	// LatencyCount is how many scheduling events the quantiles cover.
	LatencyCount uint64 `json:"latency_count"`

	// Probe lag: how late a goroutine that asked to wake every
	// ProbePeriod actually woke, over the last interval.
	ProbePeriod  float64 `json:"probe_period_seconds"`
	ProbeLagP50  float64 `json:"probe_lag_p50_seconds"`
	ProbeLagP99  float64 `json:"probe_lag_p99_seconds"`
	ProbeLagMax  float64 `json:"probe_lag_max_seconds"`
	ProbeSamples int     `json:"probe_samples"`

	// Stop-the-world pauses (/sched/pauses/total/*) over the last
	// interval: the longest one and their count.
	PauseMax   float64 `json:"pause_max_seconds"`
	PauseCount uint64  `json:"pause_count"`
	// LatencyHistogram and ProbeLagHistogram are cumulative since the
	// agent started, in the fixed buckets of LatencyBuckets.
	LatencyHistogram  Histogram `json:"latency_histogram"`
	ProbeLagHistogram Histogram `json:"probe_lag_histogram"`

	// MutexWaitSecondsTotal is /sync/mutex/wait/total:seconds.
	MutexWaitSecondsTotal float64 `json:"mutex_wait_seconds_total"`
	// MutexWaitRate is the mutex wait time per second of wall time over
	// the last interval.
	MutexWaitRate float64 `json:"mutex_wait_rate"`
}

// Goroutines counts goroutines by scheduler state.
type Goroutines struct {
	Total int `json:"total"`
	// By Go 1.26 runtime state; zero where the runtime does not tell.
	Runnable int `json:"runnable"`
	Running  int `json:"running"`
	Waiting  int `json:"waiting"`
	NotInGo  int `json:"not_in_go"`
	// CreatedTotal counts goroutines created since the process started;
	// CreatedRate is per second over the last interval.
	CreatedTotal uint64  `json:"created_total"`
	CreatedRate  float64 `json:"created_rate"`
}

// GroupTable is a snapshot's goroutine group table: the one place for
// the groups and everything said about them. A snapshot embeds it.
type GroupTable struct {
	// Groups is the goroutine group table, largest first. It may be
	// refreshed less often than every collection; GroupsTime says when.
	Groups     []GoroutineGroup `json:"groups,omitempty"`
	GroupsTime time.Time        `json:"groups_time,omitzero"`
	// GroupsTruncated is true when Groups was cut to a bounded length;
	// GroupsTotal then counts all groups.
	GroupsTruncated bool `json:"groups_truncated,omitempty"`
	GroupsTotal     int  `json:"groups_total,omitempty"`
	// ByWaitReason counts the table's goroutines per normalised wait
	// reason, all groups (also those cut off).
	ByWaitReason map[string]int `json:"by_wait_reason,omitempty"`
	// GroupsSource is where the table came from: "profile" (the
	// concurrent goroutine profile) or "dump" (a full stop-the-world
	// dump, used only at small goroutine counts).
	GroupsSource string `json:"groups_source,omitempty"`
	// GroupsCostSeconds is the wall time the last table refresh took;
	// the next refresh waits for it divided by the collector's CPU
	// budget.
	GroupsCostSeconds float64 `json:"groups_cost_seconds,omitempty"`
}

// GC is the garbage collector's share of the process.
type GC struct {
	// CPUFraction is GC CPU time over total CPU time in the last interval.
	CPUFraction float64 `json:"cpu_fraction"`
	// AssistFraction is mark assist CPU over total CPU in the interval.
	AssistFraction float64 `json:"assist_fraction"`
	CyclesTotal    uint64  `json:"cycles_total"`
	HeapBytes      uint64  `json:"heap_bytes"`
	GoalBytes      uint64  `json:"goal_bytes"`
}

// CollectorStatus is one collector's report for one collection.
type CollectorStatus struct {
	Name            string  `json:"name"`
	DurationSeconds float64 `json:"duration_seconds"`
	// Err is the error of this collection, empty when it succeeded.
	Err string `json:"error,omitempty"`
	// ErrorsTotal and PanicsTotal count failures since the agent started.
	ErrorsTotal uint64 `json:"errors_total"`
	PanicsTotal uint64 `json:"panics_total"`
	// Skipped is true when the collector did not run this time, or reused
	// its previous result (its own period or the CPU budget said to
	// wait), and SkippedTotal counts those collections since the agent
	// started.
	Skipped      bool   `json:"skipped,omitempty"`
	SkippedTotal uint64 `json:"skipped_total,omitempty"`
}

// Request is an HTTP request in flight, seen by the agent's middleware.
type Request struct {
	Method     string    `json:"method"`
	Path       string    `json:"path"`
	Started    time.Time `json:"started"`
	AgeSeconds float64   `json:"age_seconds"`
	// GoroutineID is the handler goroutine's ID, filled with Stack (the
	// middleware does not read it per request; it is found in the dump
	// that reads the stack).
	GoroutineID int64 `json:"goroutine_id,omitempty"`
	// Stack is the handler goroutine's stack, filled for requests older
	// than the stuck threshold.
	Stack []Frame `json:"stack,omitempty"`
}

// Window is a run of consecutive snapshots, oldest first, as kept by the
// agent's history. Detectors are functions of a Window.
type Window struct {
	Snapshots []*Snapshot
}

// Latest returns the newest snapshot, or nil for an empty window.
func (w Window) Latest() *Snapshot {
	if len(w.Snapshots) == 0 {
		return nil
	}
	return w.Snapshots[len(w.Snapshots)-1]
}

// Oldest returns the oldest snapshot, or nil for an empty window.
func (w Window) Oldest() *Snapshot {
	if len(w.Snapshots) == 0 {
		return nil
	}
	return w.Snapshots[0]
}

// Span is the time between the oldest and the newest snapshot.
func (w Window) Span() time.Duration {
	if len(w.Snapshots) < 2 {
		return 0
	}
	return w.Latest().Time.Sub(w.Oldest().Time)
}

// Since returns the sub-window of snapshots taken at or after t.
func (w Window) Since(t time.Time) Window {
	for i, s := range w.Snapshots {
		if !s.Time.Before(t) {
			return Window{Snapshots: w.Snapshots[i:]}
		}
	}
	return Window{}
}

// Histogram is a cumulative histogram with fixed upper bounds, the shape
// Prometheus calls a classic histogram.
type Histogram struct {
	// Bounds are the bucket upper bounds, increasing; a last, implicit
	// bucket reaches +Inf.
	Bounds []float64 `json:"bounds,omitempty"`
	// Counts has len(Bounds)+1 entries: Counts[i] is the number of
	// observations in (Bounds[i-1], Bounds[i]], not cumulative over i.
	Counts []uint64 `json:"counts,omitempty"`
	// Count is the total number of observations; Sum their sum (for
	// runtime histograms, estimated from bucket midpoints).
	Count uint64  `json:"count"`
	Sum   float64 `json:"sum"`
}

// LatencyBuckets are the bucket bounds of asyncmon's latency histograms:
// 1-2-5 steps from 1µs to 10s. The Go runtime's own scheduler histogram is
// finer, but client_golang cuts it to a handful of coarse buckets; these
// keep the resolution that matters for scheduling delay.
func LatencyBuckets() []float64 {
	return []float64{
		1e-6, 2e-6, 5e-6, 10e-6, 20e-6, 50e-6, 100e-6, 200e-6, 500e-6,
		1e-3, 2e-3, 5e-3, 10e-3, 20e-3, 50e-3, 100e-3, 200e-3, 500e-3,
		1, 2, 5, 10,
	}
}

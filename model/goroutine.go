package model

import (
	"encoding/json"
	"math"
	"time"
)

// Goroutine is one goroutine as read from a goroutine dump.
type Goroutine struct {
	ID int64 `json:"id"`
	// State is the state printed in the dump header, e.g. "chan receive",
	// "running", "select (no cases)", "sync.Mutex.Lock".
	State string `json:"state"`
	// WaitReason is State normalised to the bounded set of the Wait*
	// constants below.
	WaitReason string `json:"wait_reason"`
	// Wait is how long the goroutine has been blocked, as the dump gives
	// it (whole minutes); zero for less than a minute. In JSON it is
	// wait_seconds, like every duration (see MarshalJSON).
	Wait           time.Duration     `json:"-"`
	LockedToThread bool              `json:"locked_to_thread,omitempty"`
	Leaked         bool              `json:"leaked,omitempty"`
	Labels         map[string]string `json:"labels,omitempty"`
	// Frames are innermost first.
	Frames []Frame `json:"frames"`
	// FramesElided is true when the runtime printed "...additional frames
	// elided...".
	FramesElided bool `json:"frames_elided,omitempty"`
	// CreatedBy is the go statement that started the goroutine, zero for
	// the main goroutine and runtime-started ones without it.
	CreatedBy Frame `json:"created_by,omitzero"`
	// ParentID is the ID of the goroutine that ran the go statement, 0
	// where the dump does not say.
	ParentID int64 `json:"parent_id,omitempty"`
}

// Normalised wait reasons. Every GoroutineGroup.WaitReason and every
// Goroutine.WaitReason is one of these, so metrics labelled by wait reason
// keep a bounded cardinality.
const (
	WaitRunning   = "running"
	WaitRunnable  = "runnable"
	WaitChanRecv  = "chan receive"
	WaitChanSend  = "chan send"
	WaitSelect    = "select"
	WaitNilChan   = "nil chan"  // chan send/receive on nil, select with no cases
	WaitMutex     = "mutex"     // sync.Mutex.Lock, sync.RWMutex.Lock/RLock
	WaitCond      = "cond"      // sync.Cond.Wait
	WaitWaitGroup = "waitgroup" // sync.WaitGroup.Wait
	WaitIO        = "io wait"   // netpoller: sockets, pipes
	WaitSleep     = "sleep"     // time.Sleep, timers
	WaitSyscall   = "syscall"   // in a syscall or cgo call
	WaitGC        = "gc"        // GC workers, assists, sweep, finalizers
	WaitRuntime   = "runtime"   // other runtime-internal waits
	WaitOther     = "other"
)

// AgentLabel is the pprof label key that asyncmon's agent sets (to
// "agent") on its own goroutines, which the goroutines they start
// inherit: detectors leave them out of process-wide judgements such as
// "no goroutine can make progress", and profiles can tell the agent's
// cost apart.
const AgentLabel = "asyncmon"

// GoroutineGroup is a set of goroutines with the same creation site, wait
// reason and top user frames: one row of the goroutine table.
type GoroutineGroup struct {
	// Key identifies the group across samples.
	Key       string `json:"key"`
	CreatedBy Frame  `json:"created_by,omitzero"`
	// Start is the members' start function: the outermost frame of a
	// member's stack (runtime.goexit left out). Dumps and the concurrent
	// goroutine profile both give it; only dumps give CreatedBy.
	Start      Frame  `json:"start,omitzero"`
	WaitReason string `json:"wait_reason"`
	// TopFrames are the innermost user (non-runtime) frames that are part
	// of the key; TopFrames[0] is where the goroutines are parked.
	TopFrames []Frame `json:"top_frames,omitempty"`
	Count     int     `json:"count"`
	// Delta is the change of Count since the previous group table.
	Delta int `json:"delta"`
	// MaxWait is the longest wait of any member (dumps give minutes; the
	// concurrent profile gives none, so it may stay zero).
	// In JSON it is max_wait_seconds, like every duration.
	MaxWait time.Duration `json:"-"`
	// Stack is one member's full stack, innermost first.
	Stack []Frame `json:"stack,omitempty"`
	// SampleIDs are a few member goroutine IDs, where known.
	SampleIDs []int64 `json:"sample_ids,omitempty"`
	// Leaked counts members that the runtime's goroutineleak profile
	// reported as leaked (blocked on unreachable primitives).
	Leaked int `json:"leaked,omitempty"`
	// Labels are the pprof labels shared by all members.
	Labels map[string]string `json:"labels,omitempty"`
}

// Site is where the group waits: its top user frame, or the creation site.
func (g GoroutineGroup) Site() Frame {
	if len(g.TopFrames) > 0 {
		return g.TopFrames[0]
	}
	return g.CreatedBy
}

// LeakCheck says whether and when the runtime's goroutineleak profile
// was last read, which proves goroutines leaked (blocked on primitives no
// other goroutine can reach) and marks them in GoroutineGroup.Leaked. A
// group present at Time with Leaked zero was checked and not proven
// leaked: what it waits on is still reachable.
type LeakCheck struct {
	// Available is false when the runtime has no goroutineleak profile
	// (Go 1.26 built without GOEXPERIMENT=goroutineleakprofile).
	Available bool `json:"available"`
	// Time is when the profile was last read; zero if never.
	Time time.Time `json:"time,omitzero"`
	// Goroutines is the goroutine count at that read, Leaked the
	// goroutines the profile listed.
	Goroutines int `json:"goroutines,omitempty"`
	Leaked     int `json:"leaked,omitempty"`
	// PauseSeconds is the longest stop-the-world pause measured during
	// that read (to the runtime histogram's bucket precision), and
	// CostSeconds its wall time.
	PauseSeconds float64 `json:"pause_seconds,omitempty"`
	CostSeconds  float64 `json:"cost_seconds,omitempty"`
	// Suspects is the number of goroutine groups waiting to be checked
	// (blocked with no progress for a while and not yet proven or
	// cleared).
	Suspects int `json:"suspects,omitempty"`
	// Limited, when set, says why reads are spaced out or not taken
	// (the expected pause at this goroutine count is above the bound).
	Limited string `json:"limited,omitempty"`
}

// Blocking is the block and mutex contention over the last window.
type Blocking struct {
	// BlockProfileRate and MutexProfileFraction are the sampling settings
	// in force (0 means that profile is off).
	BlockProfileRate     int `json:"block_profile_rate"`
	MutexProfileFraction int `json:"mutex_profile_fraction"`
	// Block and Mutex are the top sites by delay over the last window,
	// largest first.
	Block []BlockingSite `json:"block,omitempty"`
	Mutex []BlockingSite `json:"mutex,omitempty"`
	// Totals since profiling was turned on, scaled by the sampling rate.
	BlockDelaySecondsTotal float64 `json:"block_delay_seconds_total"`
	BlockEventsTotal       int64   `json:"block_events_total"`
	MutexDelaySecondsTotal float64 `json:"mutex_delay_seconds_total"`
	MutexEventsTotal       int64   `json:"mutex_events_total"`
	// WindowSeconds is the span the per-site deltas cover.
	WindowSeconds float64 `json:"window_seconds"`
}

// BlockingSite is one contended call site.
type BlockingSite struct {
	// Site is the innermost user frame of the contended call.
	Site Frame `json:"site"`
	// Stack is the full stack, innermost first.
	Stack []Frame `json:"stack,omitempty"`
	// Count and DelaySeconds are over the window.
	Count        int64   `json:"count"`
	DelaySeconds float64 `json:"delay_seconds"`
}

// GoroutineTable is the body of the agent's GET /api/v1/goroutines: the
// group table of the latest snapshot, filtered and sorted as asked.
type GoroutineTable struct {
	// Time is when the table was taken (Snapshot.GroupsTime).
	Time time.Time `json:"time"`
	// Goroutines is the goroutine count of the table, all groups.
	Goroutines int `json:"goroutines"`
	// GroupsTotal counts all groups, Matched those that passed the
	// filters (before limit).
	GroupsTotal int `json:"groups_total"`
	Matched     int `json:"matched"`
	// Truncated is true when the snapshot held only the largest groups.
	Truncated    bool             `json:"truncated,omitempty"`
	ByWaitReason map[string]int   `json:"by_wait_reason,omitempty"`
	Groups       []GoroutineGroup `json:"groups"`
}

// MarshalJSON encodes g with Wait as float seconds, wait_seconds: every
// duration in asyncmon's JSON is float seconds named *_seconds.
func (g Goroutine) MarshalJSON() ([]byte, error) {
	type plain Goroutine
	return json.Marshal(struct {
		plain
		WaitSeconds float64 `json:"wait_seconds,omitempty"`
	}{plain(g), g.Wait.Seconds()})
}

// UnmarshalJSON decodes what MarshalJSON encodes.
func (g *Goroutine) UnmarshalJSON(data []byte) error {
	type plain Goroutine
	var v struct {
		*plain
		WaitSeconds float64 `json:"wait_seconds"`
	}
	v.plain = (*plain)(g)
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	g.Wait = max(0, SecondsDuration(v.WaitSeconds))
	return nil
}

// MarshalJSON encodes g with MaxWait as float seconds, max_wait_seconds:
// every duration in asyncmon's JSON is float seconds named *_seconds.
func (g GoroutineGroup) MarshalJSON() ([]byte, error) {
	type plain GoroutineGroup
	return json.Marshal(struct {
		plain
		MaxWaitSeconds float64 `json:"max_wait_seconds,omitempty"`
	}{plain(g), g.MaxWait.Seconds()})
}

// UnmarshalJSON decodes what MarshalJSON encodes.
func (g *GoroutineGroup) UnmarshalJSON(data []byte) error {
	type plain GoroutineGroup
	var v struct {
		*plain
		MaxWaitSeconds float64 `json:"max_wait_seconds"`
	}
	v.plain = (*plain)(g)
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	g.MaxWait = max(0, SecondsDuration(v.MaxWaitSeconds))
	return nil
}

// SecondsDuration converts float seconds, as asyncmon's JSON carries
// every duration (see MarshalJSON), back to a Duration: rounded to the
// nanosecond and bounded, so bad input cannot overflow; NaN is zero.
func SecondsDuration(s float64) time.Duration {
	const maxSeconds = float64(math.MaxInt64 / int64(time.Second))
	switch {
	case s != s: // NaN
		return 0
	case s < 0:
		return -SecondsDuration(-s)
	case s >= maxSeconds:
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(math.Round(s * float64(time.Second)))
}

package model

import (
	"strconv"
	"strings"
	"time"
)

// Frame is one function call in a stack.
type Frame struct {
	Func string `json:"func"`
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
}

// Site returns "file:line", or the function name where the file is unknown.
func (f Frame) Site() string {
	if f.File == "" {
		return f.Func
	}
	return f.File + ":" + strconv.Itoa(f.Line)
}

// IsUser reports whether f is the user's code: outside the standard
// library (see IsUserFunc).
func (f Frame) IsUser() bool { return f.Func != "" && IsUserFunc(f.Func) }

// IsUserFunc reports whether fn, a function name as a stack prints it
// (e.g. "net/http.(*conn).serve", "main.handler",
// "github.com/x/y.(*T).Run"), is the user's code: outside the standard
// library (its package path's first element has a dot, or is not a
// standard one) and outside asyncmon's own agent and wrappers, which sit
// between the user's code and the standard library in stacks (a tracked
// connection's Read, the request middleware) and would otherwise be named
// as where the user's goroutines wait.
func IsUserFunc(fn string) bool {
	for _, own := range []string{"github.com/asyncmon/asyncmon/collectors", "github.com/asyncmon/asyncmon/agent"} {
		if rest, ok := strings.CutPrefix(fn, own); ok && (rest == "" || rest[0] == '.' || rest[0] == '/') {
			return false
		}
	}
	pkg := fn
	if i := strings.LastIndexByte(pkg, '/'); i >= 0 {
		if j := strings.IndexByte(pkg[i:], '.'); j >= 0 {
			pkg = pkg[:i+j]
		}
	} else if j := strings.IndexByte(pkg, '.'); j >= 0 {
		pkg = pkg[:j]
	}
	root := pkg
	if i := strings.IndexByte(root, '/'); i >= 0 {
		root = root[:i]
	}
	if strings.IndexByte(root, '.') >= 0 {
		return true
	}
	return !isStdRoot(root)
}

// isStdRoot reports whether root is the first path element of a
// standard library package ("panic" is how tracebacks print
// runtime.gopanic).
func isStdRoot(root string) bool {
	switch root {
	case "archive", "bufio", "bytes", "cmp", "compress", "container", "context",
		"crypto", "database", "debug", "embed", "encoding", "errors", "expvar",
		"flag", "fmt", "go", "hash", "html", "image", "index", "internal", "io",
		"iter", "log", "maps", "math", "mime", "net", "os", "path", "plugin",
		"reflect", "regexp", "runtime", "slices", "sort", "strconv", "strings",
		"structs", "sync", "syscall", "testing", "text", "time", "unicode",
		"unique", "unsafe", "weak", "vendor", "panic":
		return true
	}
	return false
}

// IsZero reports whether f is the zero Frame.
func (f Frame) IsZero() bool { return f == Frame{} }

// Goroutine is one goroutine as read from a goroutine dump.
type Goroutine struct {
	ID int64 `json:"id"`
	// State is the state printed in the dump header, e.g. "chan receive",
	// "running", "select (no cases)", "sync.Mutex.Lock".
	State string `json:"state"`
	// WaitReason is State normalised to the bounded set in WaitReasons.
	WaitReason string `json:"wait_reason"`
	// Wait is how long the goroutine has been blocked, as the dump gives
	// it (whole minutes); zero for less than a minute.
	Wait           time.Duration     `json:"wait_ns,omitempty"`
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
	MaxWait time.Duration `json:"max_wait_ns,omitempty"`
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

// Package corpus is asyncmon's diagnosis corpus: small services with real
// blocking bugs (resource and communication deadlocks that leak from one
// to a thousand goroutines) and healthy services that look like them
// (idle pools, tickers, accept loops, keep-alive connections). Each
// program lives in its own package under progs/<class>/<name>, registers
// itself with Register, and runs in its own process with the agent
// embedded at its defaults (cmd/prog). The runner (package runner,
// command cmd/diagnose) starts them, reads the agent's findings and
// scores recall and false alarms per bug class. README.md says how.
package corpus

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// The bug classes, after the published studies of Go concurrency bugs,
// and Healthy for the look-alikes.
const (
	DoubleLock       = "double-lock"
	ABBA             = "ab-ba"
	RWR              = "rwr"
	MissingUnlock    = "missing-unlock"
	Channel          = "channel"
	ChannelContext   = "channel-context"
	ChannelCond      = "channel-cond"
	ChannelLock      = "channel-lock"
	ChannelWaitGroup = "channel-waitgroup"
	MisusedWaitGroup = "misused-waitgroup"
	Healthy          = "healthy"
)

// Classes lists the classes in report order: resource deadlocks, then
// communication deadlocks, then the healthy programs.
var Classes = []string{
	DoubleLock, ABBA, RWR, MissingUnlock,
	Channel, ChannelContext, ChannelCond, ChannelLock, ChannelWaitGroup, MisusedWaitGroup,
	Healthy,
}

// Resource reports whether class is a resource deadlock (locks only).
func Resource(class string) bool {
	switch class {
	case DoubleLock, ABBA, RWR, MissingUnlock:
		return true
	}
	return false
}

// Program is one corpus program.
type Program struct {
	// Name is unique within the corpus: the package's directory name.
	Name string `json:"name"`
	// Class is one of Classes.
	Class string `json:"class"`
	// Leaks is how many goroutines the bug leaks (0 for a healthy program).
	Leaks int `json:"leaks"`
	// Reachable says what keeps the blocked primitive reachable (a global,
	// a live goroutine), so that the garbage collector cannot prove the
	// leak; empty when nothing does. Empty for healthy programs.
	Reachable string `json:"reachable,omitempty"`
	// Short puts the program in the short subset that CI runs.
	Short bool `json:"short,omitempty"`
	// Doc says in one line what the service does and what goes wrong.
	Doc string `json:"doc"`
	// Run starts the service and its load. It runs in its own goroutine
	// and may return, or block for ever when the bug is in its caller.
	Run func(ctx context.Context) `json:"-"`

	// Dir is the source directory and Pkg the import path, both set by
	// Register from its caller.
	Dir string `json:"dir"`
	Pkg string `json:"pkg"`
}

// Healthy reports whether the program has no bug.
func (p Program) Healthy() bool { return p.Class == Healthy }

var (
	mu       sync.Mutex
	programs []Program
)

// Register adds a program; each program's package calls it from init.
// It panics on a duplicate name or an unknown class: the corpus is
// broken, which its test must show at once.
func Register(p Program) {
	pc, file, _, ok := runtime.Caller(1)
	if !ok {
		panic("corpus: Register cannot see its caller")
	}
	p.Dir = file[:strings.LastIndexByte(file, '/')]
	fn := runtime.FuncForPC(pc).Name() // "<pkg>.init.0"
	p.Pkg = fn[:strings.LastIndex(fn, ".init")]
	if !slices.Contains(Classes, p.Class) {
		panic(fmt.Sprintf("corpus: %s: unknown class %q", p.Name, p.Class))
	}
	if p.Run == nil || p.Name == "" {
		panic(fmt.Sprintf("corpus: %s: a program needs a name and Run", p.Pkg))
	}
	mu.Lock()
	defer mu.Unlock()
	for _, q := range programs {
		if q.Name == p.Name {
			panic("corpus: duplicate program " + p.Name)
		}
	}
	programs = append(programs, p)
}

// Programs returns the registered programs by class, then name.
func Programs() []Program {
	mu.Lock()
	defer mu.Unlock()
	ps := slices.Clone(programs)
	slices.SortFunc(ps, func(a, b Program) int {
		return cmp.Or(cmp.Compare(slices.Index(Classes, a.Class), slices.Index(Classes, b.Class)), cmp.Compare(a.Name, b.Name))
	})
	return ps
}

// Lookup returns the program with that name.
func Lookup(name string) (Program, bool) {
	for _, p := range Programs() {
		if p.Name == name {
			return p, true
		}
	}
	return Program{}, false
}

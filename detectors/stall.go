package detectors

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/asyncmon/asyncmon/findings"
	"github.com/asyncmon/asyncmon/model"
)

// StallName is the name of the deadlock-like stall detector.
const StallName = "deadlock"

// Causes of stall findings, the values of Finding.Cause.
const (
	CauseLockCycle   = "lock-cycle" // two or more lock groups blocked with no progress
	CauseLockHeld    = "lock-held"  // one lock group blocked with no progress
	CauseQuiescence  = "quiescence" // nothing in the process can make progress
	stallMaxSamples  = 64
	defaultStallFor  = 20 * time.Second
	stallSubjectProc = "process"
)

// StallConfig holds the thresholds of the deadlock-like stall detector.
// The zero value means the defaults documented on each field.
type StallConfig struct {
	// StallFor is how long a group must stay blocked with the same
	// goroutines to count as stalled. Default 20s: locks in healthy code
	// are held for microseconds to milliseconds, so 20s with the very same
	// waiters is no contention but a stall, and a deadlock of one or two
	// goroutines is reported well within a minute.
	StallFor time.Duration
	// MaxSamples bounds the group tables looked at per pass. Default 64.
	MaxSamples int
}

func (c StallConfig) withDefaults() StallConfig {
	if c.StallFor <= 0 {
		c.StallFor = defaultStallFor
	}
	if c.MaxSamples < 2 {
		c.MaxSamples = stallMaxSamples
	}
	return c
}

// Stall reports deadlock-like stalls: goroutine groups blocked on
// sync.Mutex, sync.RWMutex, sync.WaitGroup or channels whose members stay
// the same, with no progress, while the goroutines they wait for are
// blocked too; and whole-process quiescence, where no goroutine is
// running, runnable, or waiting on I/O, timers or system calls.
//
// Go's own deadlock detection ("all goroutines are asleep") fires only when
// every goroutine is blocked; a service always has a listener in I/O wait,
// so a deadlock among its request goroutines goes unnoticed by the runtime.
type Stall struct {
	cfg StallConfig
}

// NewStall returns a stall detector; zero fields of cfg take their
// defaults.
func NewStall(cfg StallConfig) *Stall { return &Stall{cfg: cfg.withDefaults()} }

// Name returns "deadlock".
func (*Stall) Name() string { return StallName }

// DefaultRule fires at once (the condition already needs StallFor) and
// resolves after 30s without.
func (*Stall) DefaultRule() findings.Rule {
	return findings.Rule{For: -1, Clear: 30 * time.Second, Cooldown: 5 * time.Minute}
}

// stalled is one group blocked with no progress, and for how long.
type stalled struct {
	g       *model.GoroutineGroup
	age     time.Duration
	subject string
}

// Detect implements [model.Detector].
func (d *Stall) Detect(w model.Window) []model.Finding {
	latest := w.Latest()
	if latest == nil {
		return nil
	}
	x := newGroupIndex(w, groupTime(latest).Add(-2*d.cfg.StallFor), d.cfg.MaxSamples)
	top := x.latest()
	if top == nil {
		return nil
	}
	progress := completedWaits(w, groupTime(top).Add(-d.cfg.StallFor))
	var locks, others []stalled
	// First, is anything making progress? Only then are channel waits
	// worth the persistence check (they matter only for quiescence).
	quiet := !top.GroupsTruncated // cannot see every goroutine otherwise
	blocked := 0                  // user goroutines on sync or chan
	for i := range top.Groups {
		g := &top.Groups[i]
		if ownGoroutine(g) || g.WaitReason == model.WaitGC || g.WaitReason == model.WaitRuntime {
			continue
		}
		switch g.WaitReason {
		case model.WaitMutex, model.WaitWaitGroup, model.WaitChanRecv, model.WaitChanSend, model.WaitSelect, model.WaitCond, model.WaitNilChan:
			blocked += g.Count
		default:
			quiet = false
		}
	}
	for i := range top.Groups {
		g := &top.Groups[i]
		isLock := g.WaitReason == model.WaitMutex || g.WaitReason == model.WaitWaitGroup
		isChan := g.WaitReason == model.WaitChanRecv || g.WaitReason == model.WaitChanSend ||
			g.WaitReason == model.WaitSelect || g.WaitReason == model.WaitCond || g.WaitReason == model.WaitNilChan
		if !isLock && !(isChan && quiet) || ownGoroutine(g) {
			continue
		}
		age, ok := x.persisted(g, d.cfg.StallFor)
		if ok && progress[g.Site().Site()] {
			// The block profile saw waits at this very site end in
			// the window: the lock is contended, not stuck.
			ok = false
		}
		if !ok {
			quiet = false // a blocked group that moves is progress
			continue
		}
		if g.WaitReason == model.WaitMutex {
			locks = append(locks, stalled{g, age, ""})
		} else {
			others = append(others, stalled{g, age, ""})
		}
	}
	if len(locks) == 0 && !(quiet && blocked > 0 && len(others) > 0) {
		return nil
	}
	bySite := func(ss []stalled) {
		for i := range ss {
			ss[i].subject = subjectOf(ss[i].g)
		}
		slices.SortFunc(ss, func(a, b stalled) int { return cmp.Compare(a.subject, b.subject) })
	}
	bySite(locks)
	bySite(others)

	if quiet && blocked > 0 && len(locks)+len(others) > 0 {
		return []model.Finding{d.quiescence(append(locks, others...))}
	}
	// Idle pools and signal waits park on channels for ever in healthy
	// code, so only wait groups are named as blocked behind stalled locks.
	var waits []stalled
	for _, o := range others {
		if o.g.WaitReason == model.WaitWaitGroup {
			waits = append(waits, o)
		}
	}
	switch {
	case len(locks) >= 2:
		return []model.Finding{d.lockCycle(locks, waits)}
	case len(locks) == 1:
		return []model.Finding{d.lockHeld(locks[0], waits)}
	}
	return nil
}

func stallStacks(ss []stalled) []model.Stack {
	var out []model.Stack
	for _, s := range ss {
		if len(s.g.Stack) > 0 {
			out = append(out, model.Stack{
				Label:  fmt.Sprintf("one of %d goroutines in %s at %s, blocked %s", s.g.Count, s.g.WaitReason, s.g.Site().Site(), s.age.Round(time.Second)),
				Frames: s.g.Stack,
			})
		}
	}
	return out
}

func stallNumbers(ss []stalled) map[string]float64 {
	var n int
	var age time.Duration
	for _, s := range ss {
		n += s.g.Count
		age = max(age, s.age)
	}
	return map[string]float64{
		"stalled_groups":     float64(len(ss)),
		"stalled_goroutines": float64(n),
		"stalled_seconds":    age.Seconds(),
	}
}

func describeAll(ss []stalled) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = describeGroup(s.g)
	}
	return strings.Join(parts, "; ")
}

func oldest(ss []stalled) time.Duration {
	var a time.Duration
	for _, s := range ss {
		a = max(a, s.age)
	}
	return a
}

func (d *Stall) lockCycle(locks, others []stalled) model.Finding {
	all := append(slices.Clone(locks), others...)
	summary := fmt.Sprintf(
		"%d groups of goroutines wait for locks with no progress for at least %s: %s. "+
			"Every waiter stays the same, so the lock holders are themselves blocked: most likely two code paths take the same locks in opposite order (AB-BA), or a lock is held across a wait for another locked path. "+
			"Look at the stacks below for the lock each path holds and the one it waits for; take locks in one global order, or do not hold a lock while calling out.",
		len(locks), oldest(locks).Round(time.Second), describeAll(locks))
	if len(locks) > 2 {
		// The goroutines in the cycle hold one lock each and wait for
		// another: they are few; the big groups queue behind them.
		small := slices.Clone(locks)
		slices.SortStableFunc(small, func(a, b stalled) int { return cmp.Compare(a.g.Count, b.g.Count) })
		summary += fmt.Sprintf(" The cycle is most likely between the smallest groups, %s and %s, which hold one lock each; the others queue behind them.",
			siteOf(small[0].g.Site()), siteOf(small[1].g.Site()))
	}
	if len(others) > 0 {
		summary += fmt.Sprintf(" Also blocked behind them: %s.", describeAll(others))
	}
	return model.Finding{
		ID:       model.FindingID(StallName, "lock-cycle"),
		Detector: StallName,
		Level:    model.LevelCritical,
		Title:    fmt.Sprintf("Deadlock-like stall: %d lock waits blocked at %s", len(locks), sites(locks)),
		Summary:  summary,
		Subject:  subjectOf(locks[0].g),
		Cause:    CauseLockCycle,
		Evidence: model.Evidence{Numbers: stallNumbers(all), Stacks: stallStacks(all)},
	}
}

func (d *Stall) lockHeld(l stalled, others []stalled) model.Finding {
	all := append([]stalled{l}, others...)
	summary := fmt.Sprintf(
		"%s have waited for the same lock for at least %s with no progress. "+
			"Its holder is stuck (blocked on I/O, a channel or another lock while holding it) or never unlocked it (a missing Unlock on an error path; use defer). "+
			"Find the goroutine holding it in the goroutine dump captured when this fired.",
		describeGroup(l.g), l.age.Round(time.Second))
	if len(others) > 0 {
		summary += fmt.Sprintf(" Also blocked: %s.", describeAll(others))
	}
	return model.Finding{
		ID:       model.FindingID(StallName, subjectOf(l.g)),
		Detector: StallName,
		Level:    model.LevelWarning,
		Title:    fmt.Sprintf("Lock stalled for %s at %s", l.age.Round(time.Second), subjectOf(l.g)),
		Summary:  summary,
		Subject:  subjectOf(l.g),
		Cause:    CauseLockHeld,
		Evidence: model.Evidence{Numbers: stallNumbers(all), Stacks: stallStacks(all)},
	}
}

func (d *Stall) quiescence(ss []stalled) model.Finding {
	return model.Finding{
		ID:       model.FindingID(StallName, stallSubjectProc),
		Detector: StallName,
		Level:    model.LevelCritical,
		Title:    "Process stalled: no goroutine can make progress",
		Summary: fmt.Sprintf(
			"No goroutine is running, runnable, or waiting on I/O, timers or system calls, and for at least %s the same goroutines have been blocked: %s. "+
				"Nothing outside can wake them: this is a deadlock that the runtime does not report because some goroutines (such as asyncmon's own) are still alive. "+
				"Follow the stacks below to the channel or lock that nobody will release.",
			oldest(ss).Round(time.Second), describeAll(ss)),
		Subject:  subjectOf(ss[0].g),
		Cause:    CauseQuiescence,
		Evidence: model.Evidence{Numbers: stallNumbers(ss), Stacks: stallStacks(ss)},
	}
}

func sites(ss []stalled) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = s.g.Site().Site()
	}
	return strings.Join(parts, ", ")
}

// completedWaits returns the sites where the block profile recorded waits
// that ended since t. The block profile records a wait when it ends, so a
// site with events is making progress; goroutines in a real deadlock
// never get there. Without block profiling the set is empty.
func completedWaits(w model.Window, t time.Time) map[string]bool {
	sites := make(map[string]bool)
	for _, s := range sinceTime(w, t).Snapshots {
		for _, b := range s.Blocking.Block {
			if b.Count > 0 && !b.Site.IsZero() {
				sites[b.Site.Site()] = true
			}
		}
	}
	return sites
}

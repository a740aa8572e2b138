package detectors

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/asyncmon/asyncmon/model"
)

// Judgement without proof: where the runtime's goroutineleak profile is
// missing (Go 1.26 without the experiment) or cannot prove a leak (the
// primitive is still reachable from a global or a live goroutine), these
// heuristics tell a stuck group from an idle one. Each is a warning,
// never critical, and docs/detectors/goroutine-leak.md states its
// false-alarm risk.

// Causes of the heuristic leak findings, the values of Finding.Cause.
const (
	// CauseStuckSend: goroutines wait to send, the same ones, with no
	// progress: nobody receives any more.
	CauseStuckSend = "stuck-send"
	// CauseStuckWait: goroutines wait on a sync.WaitGroup or sync.Cond
	// whose counterparts (the goroutines the waiting function started)
	// are stuck themselves, or have all exited without releasing them.
	CauseStuckWait = "stuck-wait"
)

// closureSuffix matches the compiler's names for closures and go
// statement wrappers: F.func1, F.func1.2, F.gowrap3.
var closureSuffix = regexp.MustCompile(`(\.(func|gowrap)\d+(\.\d+)*)+$`)

// enclosingFunc is the function a closure was written in: "pkg.F" for
// "pkg.F.func2.1", fn itself for a plain function.
func enclosingFunc(fn string) string {
	return closureSuffix.ReplaceAllString(fn, "")
}

// startedBy reports whether g's goroutines run a closure (or go
// statement wrapper) written in fn.
func startedBy(g *model.GoroutineGroup, fn string) bool {
	s := g.Start.Func
	return s != fn && strings.HasPrefix(s, fn+".") && closureSuffix.MatchString(s)
}

// stuckWait reports the waits a goroutine leaves only when another one
// acts.
func stuckWait(reason string) bool {
	return parkedWait(reason) || reason == model.WaitMutex || reason == model.WaitWaitGroup
}

// suspects applies the heuristics to the groups of the newest table not
// already reported, and returns warning findings.
func (d *Leak) suspects(w model.Window, x *groupIndex, reported map[string]bool) []model.Finding {
	top := x.latest()
	lc, now := top.LeakCheck, groupTime(top)
	// With block profiling on, a site whose waits completed lately is
	// making progress, however alike its tables look.
	progress := completedWaits(w, now.Add(-d.cfg.SuspectFor))
	var out []model.Finding
	stuck := make(map[string]time.Duration) // key → proven span, for the groups stuck for SuspectFor
	isStuck := func(g *model.GoroutineGroup) (time.Duration, bool) {
		if age, ok := stuck[g.Key]; ok {
			return age, true
		}
		if !stuckWait(g.WaitReason) || ownGoroutine(g) || !g.Site().IsUser() || progress[g.Site().Site()] {
			return 0, false
		}
		age, ok := x.steady(g, d.cfg.SuspectFor)
		if ok {
			stuck[g.Key] = age
		}
		return age, ok
	}
	for i := range top.Groups {
		g := &top.Groups[i]
		if reported[g.Key] || g.Leaked > 0 {
			continue
		}
		switch g.WaitReason {
		case model.WaitChanSend:
			if age, ok := isStuck(g); ok {
				out = append(out, d.stuckSend(g, age, lc, now))
				reported[g.Key] = true
			}
		case model.WaitWaitGroup, model.WaitCond:
			age, ok := isStuck(g)
			if !ok {
				continue
			}
			if f, ok := d.stuckWaitFinding(x, g, age, lc, now, isStuck); ok {
				out = append(out, f)
				reported[g.Key] = true
			}
		}
	}
	return out
}

// steady is persisted checked on every table of the span, not a few: a
// judgement without proof needs all the evidence there is that the group
// never moved (a count that fell once is progress).
func (x *groupIndex) steady(g *model.GoroutineGroup, need time.Duration) (time.Duration, bool) {
	age, ok := x.persisted(g, need)
	if !ok || g.MaxWait >= need {
		return age, ok
	}
	n := len(x.samples)
	from := groupTime(x.samples[n-1]).Add(-age)
	for i := n - 2; i >= 0 && !groupTime(x.samples[i]).Before(from); i-- {
		old := x.lookup(i, g.Key)
		if old == nil || !sameMembers(old, g) {
			return 0, false
		}
	}
	return age, true
}

// stuckSend judges a group that has waited to send with the same
// goroutines for SuspectFor: a healthy producer blocked on a slow
// consumer changes goroutines as the consumer takes values; one whose
// receiver has gone never does.
func (d *Leak) stuckSend(g *model.GoroutineGroup, age time.Duration, lc *model.LeakCheck, now time.Time) model.Finding {
	summary := fmt.Sprintf("%s, the same goroutines for at least %s with no progress: nobody receives from that channel any more. %s",
		describeGroup(g), age.Round(time.Second), leakAdvice(g))
	return d.heuristic(g, CauseStuckSend, age, summary,
		fmt.Sprintf("Goroutine leak: %d goroutine(s) stuck sending at %s", g.Count, subjectOf(g)), proofNote(lc, now, age), nil)
}

// stuckWaitFinding judges a WaitGroup or Cond wait stuck for SuspectFor
// by its counterparts: the goroutines started by the function that
// waits. If they are stuck too, or were seen and have all exited (a
// WaitGroup only: nobody is left to call Done), the wait will not end.
func (d *Leak) stuckWaitFinding(x *groupIndex, g *model.GoroutineGroup, age time.Duration, lc *model.LeakCheck, now time.Time,
	isStuck func(*model.GoroutineGroup) (time.Duration, bool)) (model.Finding, bool) {
	fn := enclosingFunc(g.Site().Func)
	if fn == "" || !model.IsUserFunc(fn) {
		return model.Finding{}, false
	}
	top := x.latest()
	var live, blocked []*model.GoroutineGroup
	for i := range top.Groups {
		o := &top.Groups[i]
		if o.Key == g.Key || !startedBy(o, fn) {
			continue
		}
		live = append(live, o)
		// Idle workers wait to receive (or in a select) until their
		// channel is closed at shutdown, and their supervisor waits
		// for them: only waits that no idle worker makes count.
		idle := o.WaitReason == model.WaitChanRecv || o.WaitReason == model.WaitSelect
		if _, ok := isStuck(o); ok && !idle || o.Leaked > 0 {
			blocked = append(blocked, o)
		}
	}
	what := "sync.WaitGroup"
	if g.WaitReason == model.WaitCond {
		what = "sync.Cond"
	}
	var why string
	var others []*model.GoroutineGroup
	switch {
	case len(live) > 0 && len(blocked) == len(live):
		others = blocked
		parts := make([]string, len(blocked))
		for i, o := range blocked {
			parts[i] = describeGroup(o)
		}
		why = fmt.Sprintf("The goroutines %s started, which would release it, are stuck themselves: %s.", model.Frame{Func: fn}.ShortFunc(), strings.Join(parts, "; "))
	case len(live) == 0 && g.WaitReason == model.WaitWaitGroup && fn != "main.main":
		// main's wait is most often a supervisor's, for goroutines
		// started in other ways than a closure of its own.
		why = fmt.Sprintf("No goroutine that %s started is left, and the counter is still above zero: nobody is left to call Done (an Add without its Done, or a Done skipped on an error path).", model.Frame{Func: fn}.ShortFunc())
	case len(live) == 0 && g.WaitReason == model.WaitCond:
		peers, ok := stuckPeers(top, g, isStuck)
		if !ok {
			return model.Finding{}, false
		}
		others = peers
		parts := make([]string, len(peers))
		for i, o := range peers {
			parts[i] = describeGroup(o)
		}
		why = fmt.Sprintf("Every other goroutine running %s, the ones that would signal it, is stuck too, one of them on something else than this Cond: %s.",
			g.Start.ShortFunc(), strings.Join(parts, "; "))
	default:
		return model.Finding{}, false
	}
	summary := fmt.Sprintf("%s, the same goroutines for at least %s on a %s that is never released. %s",
		describeGroup(g), age.Round(time.Second), what, why)
	return d.heuristic(g, CauseStuckWait, age, summary,
		fmt.Sprintf("Goroutine leak: %d goroutine(s) stuck on a %s at %s", g.Count, what, subjectOf(g)), proofNote(lc, now, age), others), true
}

// stuckPeers returns the other groups of goroutines that run the same
// start function as g, a Cond wait, when they are all stuck and at least
// one of them waits on something else than a Cond: peers that wait on
// each other through a Cond (a barrier, a hand-off between workers of one
// kind), one of them held up on a channel or lock that never comes. Peers
// that are all in Cond.Wait are left out: they are idle consumers whose
// producer is another kind of goroutine.
func stuckPeers(top *model.Snapshot, g *model.GoroutineGroup, isStuck func(*model.GoroutineGroup) (time.Duration, bool)) ([]*model.GoroutineGroup, bool) {
	start := g.Start.Func
	if start == "" || start == "main.main" || !model.IsUserFunc(start) {
		return nil, false
	}
	var peers []*model.GoroutineGroup
	other := false
	for i := range top.Groups {
		o := &top.Groups[i]
		if o.Key == g.Key || o.Start.Func != start {
			continue
		}
		if _, ok := isStuck(o); !ok {
			return nil, false // a peer that moves may yet signal
		}
		peers = append(peers, o)
		other = other || o.WaitReason != model.WaitCond
	}
	return peers, other && !top.GroupsTruncated
}

// heuristic builds a warning leak finding judged without proof, with
// what the runtime's goroutineleak profile said, or why it said nothing.
func (d *Leak) heuristic(g *model.GoroutineGroup, cause string, age time.Duration, summary, title, note string,
	others []*model.GoroutineGroup) model.Finding {
	stacks := groupStack(g)
	for _, o := range others {
		stacks = append(stacks, groupStack(o)...)
	}
	return model.Finding{
		ID:       model.FindingID(LeakName, g.Key),
		Detector: LeakName,
		Level:    model.LevelWarning,
		Title:    title,
		Summary:  summary,
		Subject:  subjectOf(g),
		Cause:    cause,
		Evidence: model.Evidence{
			Numbers: map[string]float64{
				"goroutines":    float64(g.Count),
				"stuck_seconds": age.Seconds(),
			},
			Stacks: stacks,
			Notes:  []string{note},
		},
	}
}

// proofNote says whether the runtime's goroutineleak profile checked a
// group that has been stuck with the same members for age at now, and
// what that means.
func proofNote(lc *model.LeakCheck, now time.Time, age time.Duration) string {
	switch {
	case lc == nil:
		return "not checked by the runtime: no goroutine collector reads the goroutineleak profile here."
	case !lc.Available:
		return "judged without proof: this runtime has no goroutineleak profile (use Go 1.27, or GOEXPERIMENT=goroutineleakprofile on Go 1.26, to have the runtime prove leaks)."
	case !lc.Time.IsZero() && !lc.Time.Before(now.Add(-age)):
		return fmt.Sprintf("not confirmed by the runtime: the goroutineleak profile read at %s (%d goroutines, %d leaked) did not list them, so what they wait on is still reachable from a global or a live goroutine, which the runtime cannot prove leaked; this is judgement, not proof.",
			lc.Time.UTC().Format(time.RFC3339), lc.Goroutines, lc.Leaked)
	case lc.Limited != "":
		return "not checked by the runtime yet: " + lc.Limited + "."
	}
	return "not checked by the runtime yet: the goroutine collector reads the goroutineleak profile once a group has been blocked for a while."
}

package detectors

import (
	"fmt"
	"time"

	"github.com/asyncmon/asyncmon/detectors/internal/trend"
	"github.com/asyncmon/asyncmon/findings"
	"github.com/asyncmon/asyncmon/model"
)

// LeakName is the name of the goroutine leak detector.
const LeakName = "goroutine-leak"

// growthSamples bounds the group tables a growth trend is fitted over.
const growthSamples = 24

// Causes of goroutine leak findings, the values of Finding.Cause.
const (
	CauseGrowing   = "growing"   // the group keeps growing
	CauseParked    = "parked"    // the same goroutines parked for long
	CauseNilChan   = "nil-chan"  // parked on a nil channel or empty select: can never wake
	CauseConfirmed = "confirmed" // the runtime's goroutineleak profile reports them
)

// LeakConfig holds the thresholds of the goroutine leak detector. The zero
// value means the defaults documented on each field.
type LeakConfig struct {
	// Lookback is how far back the growth trend is fitted. Default 5m.
	Lookback time.Duration
	// MinSpan is the least span of group tables a trend is fitted over.
	// Default 20s.
	MinSpan time.Duration
	// MinGrowth is the least net growth, in goroutines, over the fitted
	// span. Default 20: pools and connection handlers grow by a few at a
	// time as load changes.
	MinGrowth int
	// MinR2 is the least fit quality (R² of a least-squares line through
	// the counts) for growth to count as a trend. Default 0.8: a burst
	// that comes and goes fits a line badly.
	MinR2 float64
	// RecentShare is the least share of the net growth that must have
	// happened in the second half of the span, so that a ramp-up that has
	// levelled off does not count. Default 0.25.
	RecentShare float64
	// TailShare is the least share of the net growth that must have
	// happened in the last quarter of the span: the newest tables must
	// still be rising. A group that ramped up at start-up and then
	// levelled off still shows most of its growth in the second half for
	// a while after the plateau begins; its last quarter is flat.
	// Default 0.15 (a steady line puts 0.25 there).
	TailShare float64
	// ParkedFor is how long a group must stay parked on a channel,
	// select or sync.Cond with the same goroutines to be reported.
	// Default 5m (the agent keeps 10 minutes of history by default, so
	// the span must fit well inside it).
	ParkedFor time.Duration
	// SuspectFor is how long a group must stay blocked with the same
	// goroutines before the heuristics judge it without proof (see
	// suspect.go): a send nobody takes, a WaitGroup or Cond wait whose
	// counterparts are stuck or gone. Default 20s, so that with the
	// rule's 5s the warning fires well within a minute.
	SuspectFor time.Duration
	// MinParked and MaxParked bound the plain parked groups reported
	// (information only, as idle pools look the same): at least
	// MinParked goroutines, at most MaxParked groups per pass, largest
	// first. Defaults 10 and 5. Groups on a nil channel and groups the
	// runtime confirms as leaked are always reported.
	MinParked int
	MaxParked int
	// Critical is the group size at which a growing group is critical.
	// Default 10000.
	Critical int
	// MaxSamples bounds the group tables looked at per pass. Default 64.
	MaxSamples int
}

func (c LeakConfig) withDefaults() LeakConfig {
	if c.Lookback <= 0 {
		c.Lookback = 5 * time.Minute
	}
	if c.MinSpan <= 0 {
		c.MinSpan = 20 * time.Second
	}
	if c.MinGrowth <= 0 {
		c.MinGrowth = 20
	}
	if c.MinR2 <= 0 {
		c.MinR2 = 0.8
	}
	if c.RecentShare <= 0 {
		c.RecentShare = 0.25
	}
	if c.TailShare <= 0 {
		c.TailShare = 0.15
	}
	if c.ParkedFor <= 0 {
		c.ParkedFor = 5 * time.Minute
	}
	if c.SuspectFor <= 0 {
		c.SuspectFor = 20 * time.Second
	}
	if c.MinParked <= 0 {
		c.MinParked = 10
	}
	if c.MaxParked <= 0 {
		c.MaxParked = 5
	}
	if c.Critical <= 0 {
		c.Critical = 10000
	}
	if c.MaxSamples < 2 {
		c.MaxSamples = 64
	}
	return c
}

// Leak reports goroutine groups that leak: groups that keep growing
// across the window (a steady trend with a good fit, so bursts do not
// count), and groups parked on a channel, select or sync.Cond with the
// same goroutines for longer than ParkedFor. Groups that the runtime's
// goroutineleak profile reports (GoroutineGroup.Leaked) are definite
// leaks.
type Leak struct {
	cfg LeakConfig
}

// NewLeak returns a goroutine leak detector; zero fields of cfg take their
// defaults.
func NewLeak(cfg LeakConfig) *Leak { return &Leak{cfg: cfg.withDefaults()} }

// Name returns "goroutine-leak".
func (*Leak) Name() string { return LeakName }

// DefaultRule fires once the condition has held for 5s (the trend itself
// already needs MinSpan, a good fit and recent growth) and resolves after
// 1m without.
func (*Leak) DefaultRule() findings.Rule {
	return findings.Rule{For: 5 * time.Second, Clear: time.Minute, Cooldown: 10 * time.Minute}
}

// parkedWait reports the wait reasons of goroutines waiting for another
// goroutine to act, which never comes for a leaked one.
func parkedWait(reason string) bool {
	switch reason {
	case model.WaitChanRecv, model.WaitChanSend, model.WaitSelect, model.WaitNilChan, model.WaitCond:
		return true
	}
	return false
}

// groupTrend is the fitted size of one group over time, and its size at
// the middle and at three quarters of the fitted span.
type groupTrend struct {
	trend.Line
	mid, tail int
}

// Detect implements [model.Detector].
func (d *Leak) Detect(w model.Window) []model.Finding {
	latest := w.Latest()
	if latest == nil {
		return nil
	}
	back := max(d.cfg.Lookback, d.cfg.ParkedFor)
	x := newGroupIndex(w, groupTime(latest).Add(-back), d.cfg.MaxSamples)
	top := x.latest()
	if top == nil {
		return nil
	}
	now := groupTime(top)
	var out []model.Finding
	reported := make(map[string]bool)

	// Growth: candidates are the groups of the newest table big enough
	// to have grown by MinGrowth.
	growth := d.growth(x, now)
	for i := range top.Groups {
		g := &top.Groups[i]
		if tr, ok := growth[g.Key]; ok {
			if f, ok := d.growing(g, tr, now, top.LeakCheck); ok {
				out = append(out, f)
				reported[g.Key] = true
			}
		}
	}
	// Judgement without proof: stuck sends and waits (suspect.go).
	out = append(out, d.suspects(w, x, reported)...)
	// Parked: the same goroutines on a channel, select or cond. Idle
	// pools look the same, so plain parked groups (information only) are
	// bounded: the MaxParked largest, of at least MinParked goroutines.
	var infos []model.Finding
	for i := range top.Groups {
		g := &top.Groups[i]
		if reported[g.Key] || !parkedWait(g.WaitReason) && g.Leaked == 0 {
			continue
		}
		if g.Leaked == 0 && g.WaitReason == model.WaitNilChan {
			if f, ok := d.nilChan(x, g); ok {
				out = append(out, f)
			}
			continue
		}
		plain := g.Leaked == 0
		if plain && (g.Count < d.cfg.MinParked || len(infos) >= d.cfg.MaxParked) {
			continue // tables are largest first: the rest are smaller
		}
		if f, ok := d.parked(x, g, now); ok {
			if plain {
				infos = append(infos, f)
			} else {
				out = append(out, f)
			}
		}
	}
	return append(out, infos...)
}

// growth fits the size over time of the groups of the newest table that
// could have grown by MinGrowth, over the tables of the last Lookback.
func (d *Leak) growth(x *groupIndex, now time.Time) map[string]*groupTrend {
	top := x.latest()
	cand := make(map[string]*groupTrend)
	for i := range top.Groups {
		g := &top.Groups[i]
		switch g.WaitReason {
		case model.WaitGC, model.WaitRuntime, model.WaitMutex, model.WaitWaitGroup:
			// Runtime goroutines are not the user's; goroutines piling
			// up on a lock are the stall detector's.
			continue
		}
		if g.Count >= d.cfg.MinGrowth {
			cand[g.Key] = &groupTrend{}
		}
	}
	if len(cand) == 0 {
		return nil
	}
	from := now.Add(-d.cfg.Lookback)
	var used []*model.Snapshot
	for _, s := range x.samples {
		if !groupTime(s).Before(from) {
			used = append(used, s)
		}
	}
	// A line is fitted well enough through growthSamples points; each
	// more point costs a walk over a whole table.
	if len(used) > growthSamples {
		thin := make([]*model.Snapshot, 0, growthSamples)
		for i := range growthSamples {
			thin = append(thin, used[i*(len(used)-1)/(growthSamples-1)])
		}
		used = thin
	}
	if len(used) < 4 || groupTime(used[len(used)-1]).Sub(groupTime(used[0])) < d.cfg.MinSpan {
		return nil
	}
	t0 := groupTime(used[0])
	spanT := groupTime(used[len(used)-1]).Sub(t0)
	midT, tailT := t0.Add(spanT/2), t0.Add(3*spanT/4)
	seen := make(map[string]bool, len(cand))
	for _, s := range used {
		at := groupTime(s)
		clear(seen)
		for i := range s.Groups {
			g := &s.Groups[i]
			if tr := cand[g.Key]; tr != nil {
				tr.Add(at.Sub(t0).Seconds(), g.Count, at)
				if !at.After(midT) {
					tr.mid = g.Count
				}
				if !at.After(tailT) {
					tr.tail = g.Count
				}
				seen[g.Key] = true
			}
		}
		if s.GroupsTruncated {
			continue // an absent group may just be below the cut
		}
		for k, tr := range cand {
			if !seen[k] {
				tr.Add(at.Sub(t0).Seconds(), 0, at)
				if !at.After(midT) {
					tr.mid = 0
				}
				if !at.After(tailT) {
					tr.tail = 0
				}
			}
		}
	}
	return cand
}

// growing judges one group's trend.
func (d *Leak) growing(g *model.GoroutineGroup, tr *groupTrend, now time.Time, lc *model.LeakCheck) (model.Finding, bool) {
	net := tr.Last - tr.First
	slope, r2 := tr.Fit()
	span := tr.LastT.Sub(tr.FirstT)
	if net < d.cfg.MinGrowth || slope <= 0 || r2 < d.cfg.MinR2 || span < d.cfg.MinSpan {
		return model.Finding{}, false
	}
	if float64(tr.Last-tr.mid) < d.cfg.RecentShare*float64(net) ||
		float64(tr.Last-tr.tail) < d.cfg.TailShare*float64(net) {
		return model.Finding{}, false
	}
	if (g.WaitReason == model.WaitSleep || g.WaitReason == model.WaitIO) && span < 3*d.cfg.MinSpan {
		// Sleeping goroutines wake by themselves, and goroutines in
		// network reads wake when their peer writes or hangs up: a group
		// of them that grows is most often a ramp of pollers, clients
		// or keep-alive connections as load comes in. Only growth
		// sustained over a much longer span counts.
		return model.Finding{}, false
	}
	level := model.LevelWarning
	cause := CauseGrowing
	if g.Count >= d.cfg.Critical || g.Leaked > 0 {
		level = model.LevelCritical
	}
	perMin := slope * 60
	summary := fmt.Sprintf(
		"%s, and the group grew by %d in the last %s (about %.1f a minute, fit R² %.2f), since %s. "+
			"Each goroutine that enters it never leaves: %s",
		describeGroup(g), net, span.Round(time.Second), perMin, r2,
		tr.FirstT.UTC().Format(time.RFC3339), leakAdvice(g))
	num := map[string]float64{
		"goroutines":               float64(g.Count),
		"growth_goroutines":        float64(net),
		"growth_per_minute":        perMin,
		"fit_r2":                   r2,
		"span_seconds":             span.Seconds(),
		"max_wait_seconds":         g.MaxWait.Seconds(),
		"runtime_leaked_goroutine": float64(g.Leaked),
	}
	var notes []string
	if g.Leaked > 0 {
		cause = CauseConfirmed
		notes = append(notes, fmt.Sprintf("confirmed: the runtime's goroutineleak profile reports %d of them blocked on primitives no other goroutine can reach", g.Leaked))
	} else {
		notes = append(notes, proofNote(lc, now, span))
	}
	return model.Finding{
		ID:       model.FindingID(LeakName, g.Key),
		Detector: LeakName,
		Level:    level,
		Title:    fmt.Sprintf("Goroutine leak: %d goroutines growing at %s", g.Count, subjectOf(g)),
		Summary:  summary,
		Subject:  subjectOf(g),
		Cause:    cause,
		Evidence: model.Evidence{Numbers: num, Stacks: groupStack(g), Notes: notes},
	}, true
}

// parked judges a group parked on a channel, select or cond.
func (d *Leak) parked(x *groupIndex, g *model.GoroutineGroup, now time.Time) (model.Finding, bool) {
	age, ok := x.persisted(g, d.cfg.ParkedFor)
	var level model.Level
	var cause, why string
	switch {
	case g.Leaked > 0:
		level, cause = model.LevelCritical, CauseConfirmed
		why = fmt.Sprintf("The runtime's goroutineleak profile reports %d of them blocked on a primitive no other goroutine can reach: they can never wake.", g.Leaked)
		if lc := x.latest().LeakCheck; lc != nil && !lc.Time.IsZero() {
			why += fmt.Sprintf(" (Proof read at %s, with %d goroutines, %d leaked in all.)", lc.Time.UTC().Format(time.RFC3339), lc.Goroutines, lc.Leaked)
		}
	case !ok:
		return model.Finding{}, false
	default:
		// An idle worker pool looks the same as leaked goroutines that
		// wait forever, so without proof this is only information.
		level, cause = model.LevelInfo, CauseParked
		why = "If this is not a pool of idle workers, these goroutines are leaked."
	}
	summary := fmt.Sprintf("%s, the same goroutines for at least %s with no progress. %s %s",
		describeGroup(g), age.Round(time.Second), why, leakAdvice(g))
	return model.Finding{
		ID:       model.FindingID(LeakName, g.Key),
		Detector: LeakName,
		Level:    level,
		Title:    fmt.Sprintf("Goroutines parked for %s at %s", age.Round(time.Second), subjectOf(g)),
		Summary:  summary,
		Subject:  subjectOf(g),
		Cause:    cause,
		Evidence: model.Evidence{
			Numbers: map[string]float64{
				"goroutines":               float64(g.Count),
				"parked_seconds":           age.Seconds(),
				"runtime_leaked_goroutine": float64(g.Leaked),
			},
			Stacks: groupStack(g),
		},
	}, true
}

// nilChan judges a group parked on a nil channel or in a select with no
// ready-able case: it can never wake, so it is reported as soon as it is
// seen (the rule's For still wants it in the tables for a few seconds),
// whatever its size. The main goroutine is left out: a `select {}` at the
// end of main is how a program that serves from other goroutines waits for
// ever.
func (d *Leak) nilChan(x *groupIndex, g *model.GoroutineGroup) (model.Finding, bool) {
	if ownGoroutine(g) || g.Start.Func == "main.main" || !g.Site().IsUser() {
		return model.Finding{}, false
	}
	since, age := x.seenSince(g)
	summary := fmt.Sprintf("%s, seen there since %s (%s). A nil channel, or a select whose every channel is nil, can never be ready: these goroutines can never wake. %s",
		describeGroup(g), since.UTC().Format(time.RFC3339), age.Round(time.Second), leakAdvice(g))
	return model.Finding{
		ID:       model.FindingID(LeakName, g.Key),
		Detector: LeakName,
		Level:    model.LevelWarning,
		Title:    fmt.Sprintf("Goroutine leak: %d goroutine(s) blocked for ever on a nil channel at %s", g.Count, subjectOf(g)),
		Summary:  summary,
		Subject:  subjectOf(g),
		Cause:    CauseNilChan,
		Evidence: model.Evidence{
			Numbers: map[string]float64{
				"goroutines":     float64(g.Count),
				"parked_seconds": age.Seconds(),
			},
			Stacks: groupStack(g),
			Notes:  []string{"the wait reason itself is the evidence: the runtime parks a goroutine on a nil channel for good."},
		},
	}, true
}

// leakAdvice says what to do about a leaking group, by its wait.
func leakAdvice(g *model.GoroutineGroup) string {
	site := g.Site().Site()
	switch g.WaitReason {
	case model.WaitChanRecv:
		return "they wait to receive at " + site + " from a channel nobody sends on or closes. Close the channel when the producer is done, or select on ctx.Done() as well."
	case model.WaitChanSend:
		return "they wait to send at " + site + " to a channel nobody receives from any more (a caller that gave up). Give the channel a buffer of 1, or select on ctx.Done() as well."
	case model.WaitSelect:
		return "they wait in a select at " + site + " where no case becomes ready, typically to hand a result to a caller that has gone. Select on the caller's context (not a longer-lived one), or give the result channel a buffer of 1 so the send never blocks."
	case model.WaitNilChan:
		return "fix the code at " + site + " so it never blocks on a nil channel or an empty select."
	case model.WaitCond:
		return "they wait on a sync.Cond at " + site + " that is never signalled. Broadcast on shutdown or replace the Cond with a channel."
	case model.WaitIO:
		return "they wait on network I/O at " + site + ": connections that are never closed. Set deadlines and close connections and response bodies."
	}
	return "look at " + site + " for the exit condition these goroutines never reach, and tie their lifetime to a context."
}

package failures

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/asyncmon/asyncmon/detectors/internal/trend"
	"github.com/asyncmon/asyncmon/findings"
	"github.com/asyncmon/asyncmon/model"
)

// OverloadName is the name of the overload detector.
const OverloadName = "overload"

// Overload causes, the Cause of its findings.
const (
	// CauseNoShedding: requests arrive faster than they complete and
	// nothing sheds the excess.
	CauseNoShedding = "no-shedding"
	// CauseStarved: requests complete slowly because the scheduler is
	// starved (see the starvation detector).
	CauseStarved = "starved"
	// CauseStuck: no request completes at all: they are stuck, not
	// queued (see the stuck-request detector).
	CauseStuck = "stuck"
)

// OverloadConfig holds the thresholds of the overload detector. The zero
// value means the defaults documented on each field.
type OverloadConfig struct {
	// Window is how far back the in-flight trend is fitted. Default 20s;
	// longer when the last five collections span more (a stretched
	// interval).
	Window time.Duration
	// MinGrowth is the least growth of the requests in flight over the
	// window. Default 20: a healthy service's in-flight count wobbles by
	// a few requests.
	MinGrowth int
	// MinR2 is the least fit quality (R² of a least-squares line through
	// the in-flight counts): the growth must be steady, not one burst.
	// Default 0.8.
	MinR2 float64
	// MinRatio is the least ratio of arrivals to completions over the
	// window, all routes together. Default 1.1: completions fall behind
	// by a tenth (a healthy route's traffic dilutes a piling one's).
	MinRatio float64
	// SchedLatencyP99 and ProbeLagP99 are the scheduler latencies over
	// which an interval counts as starved; starvation is named as the
	// cause when 80% of the window's intervals are, as the starvation
	// detector requires. Defaults 25ms and 50ms, that detector's own.
	SchedLatencyP99 time.Duration
	ProbeLagP99     time.Duration
}

// minSamples is the fewest collections a trend is fitted through.
const minSamples = 5

func (c OverloadConfig) withDefaults() OverloadConfig {
	if c.Window <= 0 {
		c.Window = 20 * time.Second
	}
	if c.MinGrowth <= 0 {
		c.MinGrowth = 20
	}
	if c.MinR2 <= 0 {
		c.MinR2 = 0.8
	}
	if c.MinRatio <= 0 {
		c.MinRatio = 1.1
	}
	if c.SchedLatencyP99 <= 0 {
		c.SchedLatencyP99 = 25 * time.Millisecond
	}
	if c.ProbeLagP99 <= 0 {
		c.ProbeLagP99 = 50 * time.Millisecond
	}
	return c
}

// Overload reports HTTP requests piling up: the number in flight (from
// the agent's middleware) grows steadily while completions fall behind
// arrivals, so the service queues work without bound instead of
// shedding it. It tells this apart from its two look-alikes: when no
// request completes at all, requests are stuck (cause "stuck"); when the
// scheduler is starved, requests finish slowly for want of CPU (cause
// "starved").
type Overload struct {
	cfg OverloadConfig
}

// NewOverload returns an overload detector; zero fields of cfg take
// their defaults.
func NewOverload(cfg OverloadConfig) *Overload { return &Overload{cfg: cfg.withDefaults()} }

// Name returns "overload".
func (*Overload) Name() string { return OverloadName }

// DefaultRule fires once the pile-up has lasted 5s more (25s in all)
// and resolves after a minute without it.
func (*Overload) DefaultRule() findings.Rule {
	return findings.Rule{For: 5 * time.Second, Clear: time.Minute, Cooldown: 5 * time.Minute}
}

// Detect implements [model.Detector].
func (d *Overload) Detect(w model.Window) []model.Finding {
	latest := w.Latest()
	if latest == nil || latest.RequestLoad.StartedTotal == 0 {
		return nil
	}
	// The window is cfg.Window or the last minSamples collections,
	// whichever is longer: when the agent stretches its interval under
	// its CPU budget (a loaded host is when requests pile up), a fixed
	// window would hold too few points to fit a trend.
	span := d.cfg.Window
	if n := len(w.Snapshots); n >= minSamples {
		span = max(span, latest.Time.Sub(w.Snapshots[n-minSamples].Time))
	}
	win := w.Since(latest.Time.Add(-span))
	first := win.Oldest()
	if len(win.Snapshots) < minSamples || win.Span() < d.cfg.Window*2/3 {
		return nil
	}
	var tr trend.Line
	starved := 0
	for _, s := range win.Snapshots {
		tr.Add(s.Time.Sub(first.Time).Seconds(), s.RequestLoad.InFlight, s.Time)
		sc := s.Scheduler
		if sc.LatencyP99 >= d.cfg.SchedLatencyP99.Seconds() || sc.ProbeLagP99 >= d.cfg.ProbeLagP99.Seconds() {
			starved++
		}
	}
	slope, r2 := tr.Fit()
	l0, l1 := first.RequestLoad, latest.RequestLoad
	growth := l1.InFlight - l0.InFlight
	arrived := float64(l1.StartedTotal - min(l0.StartedTotal, l1.StartedTotal))
	done := float64(l1.CompletedTotal - min(l0.CompletedTotal, l1.CompletedTotal))
	if growth < d.cfg.MinGrowth || slope <= 0 || r2 < d.cfg.MinR2 || arrived < d.cfg.MinRatio*done {
		return nil
	}
	secs := win.Span().Seconds()
	inRate, outRate := arrived/secs, done/secs

	cause, why := CauseNoShedding, fmt.Sprintf(
		"Requests arrive faster (%.1f/s) than they complete (%.1f/s) and nothing sheds the excess, so they queue without bound, "+
			"each holding a goroutine and its memory, and every one waits longer. Bound the work in flight (a semaphore or a "+
			"bounded queue that answers 503 or 429 when full), give requests a deadline, or add capacity.", inRate, outRate)
	switch {
	case done == 0:
		cause, why = CauseStuck, "No request completed in the window: they are stuck, not merely queued. "+
			"Look at the stuck-request finding and the handlers' stacks for what they wait on."
	case starved*5 >= len(win.Snapshots)*4:
		cause, why = CauseStarved, fmt.Sprintf("Requests complete (%.1f/s against %.1f/s arriving) slowly because the scheduler is starved: "+
			"goroutines wait for a CPU. The starvation finding names the cause (CPU, GC, throttling); fix that first.", outRate, inRate)
	}
	ev := model.Evidence{Numbers: map[string]float64{
		"in_flight":                  float64(l1.InFlight),
		"in_flight_growth":           float64(growth),
		"growth_per_second":          slope,
		"fit_r2_ratio":               r2,
		"arrivals_per_second":        inRate,
		"completions_per_second":     outRate,
		"oldest_request_age_seconds": l1.OldestAgeSeconds,
	}}
	ev.Notes = routesInFlight(latest.Requests)
	return []model.Finding{{
		ID:       model.FindingID(OverloadName, "process"),
		Detector: OverloadName,
		Level:    model.LevelWarning,
		Title:    fmt.Sprintf("Requests pile up: %d in flight, +%d in %s", l1.InFlight, growth, fmtWindow(win.Span().Round(time.Second))),
		Summary: fmt.Sprintf("HTTP requests in flight grew steadily from %d to %d over the last %s (%.1f more a second); the oldest has waited %s. %s",
			l0.InFlight, l1.InFlight, fmtWindow(win.Span().Round(time.Second)), slope, model.FormatSeconds(l1.OldestAgeSeconds), why),
		Subject:  "process",
		Cause:    cause,
		Evidence: ev,
	}}
}

// routesInFlight names the paths most requests in flight are for, from
// the bounded list of the oldest.
func routesInFlight(reqs []model.Request) []string {
	if len(reqs) == 0 {
		return nil
	}
	by := make(map[string]int)
	for _, r := range reqs {
		by[r.Method+" "+r.Path]++
	}
	routes := make([]string, 0, len(by))
	for r := range by {
		routes = append(routes, r)
	}
	slices.SortFunc(routes, func(a, b string) int { return cmp.Or(cmp.Compare(by[b], by[a]), cmp.Compare(a, b)) })
	var out []string
	for _, r := range routes[:min(3, len(routes))] {
		out = append(out, fmt.Sprintf("%s: %d of the %d oldest requests in flight", r, by[r], len(reqs)))
	}
	return out
}

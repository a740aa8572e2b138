package failures

import (
	"fmt"
	"time"

	"github.com/asyncmon/asyncmon/detectors/internal/wording"
	"github.com/asyncmon/asyncmon/findings"
	"github.com/asyncmon/asyncmon/model"
)

// PanicName is the name of the panic detector.
const PanicName = "panic"

// PanicConfig holds the thresholds of the panic detector. The zero value
// means the defaults documented on each field.
type PanicConfig struct {
	// Window is how far back panics are counted. Default 5m.
	Window time.Duration
	// Min is the number of panics at one site within Window that raises
	// a finding. Default 1: a panic is a bug, however rare.
	Min int
	// Critical is the number of panics at one site within Window that
	// makes the finding critical. Default 10.
	Critical int
}

func (c PanicConfig) withDefaults() PanicConfig {
	if c.Window <= 0 {
		c.Window = 5 * time.Minute
	}
	if c.Min <= 0 {
		c.Min = 1
	}
	if c.Critical <= 0 {
		c.Critical = 10
	}
	return c
}

// Panics reports places that panicked recently: HTTP handlers (through
// the agent's middleware) and goroutines that defer the agent's panic
// recorder. One finding per site, with the latest value, route and stack.
type Panics struct {
	cfg PanicConfig
}

// NewPanics returns a panic detector; zero fields of cfg take their
// defaults.
func NewPanics(cfg PanicConfig) *Panics { return &Panics{cfg: cfg.withDefaults()} }

// Name returns "panic".
func (*Panics) Name() string { return PanicName }

// DefaultRule fires at once (a panic has already happened) and resolves a
// minute after the site's last panic left the window.
func (*Panics) DefaultRule() findings.Rule {
	return findings.Rule{For: -1, Clear: time.Minute, Cooldown: 5 * time.Minute}
}

// Detect implements [model.Detector].
func (d *Panics) Detect(w model.Window) []model.Finding {
	latest := w.Latest()
	if latest == nil || len(latest.Panics) == 0 {
		return nil
	}
	base := baseline(w, latest.Time.Add(-d.cfg.Window))
	var out []model.Finding
	for _, ps := range latest.Panics {
		n := ps.Count
		if base != nil {
			n -= panicCount(base, ps.Kind, ps.Site)
		}
		if n < int64(d.cfg.Min) {
			continue
		}
		level := model.LevelWarning
		if n >= int64(d.cfg.Critical) {
			level = model.LevelCritical
		}
		who, where := "handlers panic", ""
		if ps.Kind == model.PanicGoroutine {
			who = "a goroutine panics"
		}
		if ps.Route != "" {
			where = fmt.Sprintf(" serving %s", ps.Route)
		}
		subj := ps.Site.Site()
		ev := model.Evidence{Numbers: map[string]float64{
			"panics_in_window": float64(n),
			"panics_total":     float64(ps.Count),
		}}
		if len(ps.Stack) > 0 {
			ev.Stacks = []model.Stack{{Label: fmt.Sprintf("latest panicking stack (%s)", ps.Last.UTC().Format(time.RFC3339)), Frames: ps.Stack}}
		}
		ev.Notes = []string{"panic value: " + ps.Value}
		advice := "net/http recovered it and dropped the request (the client saw the connection close): fix the bug at that line, or return an error response instead of panicking."
		if ps.Kind == model.PanicGoroutine {
			advice = "Unless something recovers it, such a panic kills the process: fix the bug at that line."
		}
		out = append(out, model.Finding{
			ID:       model.FindingID(PanicName, ps.Kind+" "+subj),
			Detector: PanicName,
			Level:    level,
			Title:    fmt.Sprintf("%s at %s, %s in %s", who, subj, times(n), fmtWindow(d.cfg.Window)),
			Summary: fmt.Sprintf("%s at %s (%s)%s: %d panic(s) in the last %s, %d since the agent started, the latest at %s with %q. %s",
				wording.UpperFirst(who), subj, ps.Site.ShortFunc(), where, n, fmtWindow(d.cfg.Window), ps.Count,
				ps.Last.UTC().Format(time.RFC3339), ps.Value, advice),
			Subject:  subj,
			Cause:    ps.Kind,
			Evidence: ev,
		})
	}
	return out
}

// times writes "once", "2 times"...
func times(n int64) string {
	if n == 1 {
		return "once"
	}
	return fmt.Sprintf("%d times", n)
}

// baseline returns the newest snapshot taken at or before t, nil when the
// window starts later (counts then start from zero at the agent's start).
func baseline(w model.Window, t time.Time) *model.Snapshot {
	var b *model.Snapshot
	for _, s := range w.Snapshots {
		if s.Time.After(t) {
			break
		}
		b = s
	}
	return b
}

func panicCount(s *model.Snapshot, kind string, site model.Frame) int64 {
	for _, ps := range s.Panics {
		if ps.Kind == kind && ps.Site == site {
			return ps.Count
		}
	}
	return 0
}

// fmtWindow writes a window as "5 min" or "30 s".
func fmtWindow(d time.Duration) string {
	if d >= time.Minute && d%time.Minute == 0 {
		return fmt.Sprintf("%d min", int(d/time.Minute))
	}
	return fmt.Sprintf("%d s", int(d.Round(time.Second)/time.Second))
}

package failures

import (
	"fmt"
	"time"

	"github.com/asyncmon/asyncmon/findings"
	"github.com/asyncmon/asyncmon/model"
)

// NoDeadlineName is the name of the calls-without-deadline detector.
const NoDeadlineName = "no-deadline"

// NoDeadlineConfig holds the thresholds of the calls-without-deadline
// detector. The zero value means the defaults documented on each field.
type NoDeadlineConfig struct {
	// Window is how far back calls are counted. Default 5m.
	Window time.Duration
	// Min is the number of calls without a deadline from one site
	// within Window that raises a finding. Default 1: one such call
	// against a dependency that hangs is enough to pin a goroutine and a
	// connection for good.
	Min int
}

func (c NoDeadlineConfig) withDefaults() NoDeadlineConfig {
	if c.Window <= 0 {
		c.Window = 5 * time.Minute
	}
	if c.Min <= 0 {
		c.Min = 1
	}
	return c
}

// NoDeadline reports the places that make outbound HTTP or SQL calls
// (through the connection tracker's wrappers) whose context has no
// deadline: such a call waits for ever on a dependency that stops
// answering. One finding per call site, naming it and the count, with
// where to put the timeout.
type NoDeadline struct {
	cfg NoDeadlineConfig
}

// NewNoDeadline returns a calls-without-deadline detector; zero fields of
// cfg take their defaults.
func NewNoDeadline(cfg NoDeadlineConfig) *NoDeadline {
	return &NoDeadline{cfg: cfg.withDefaults()}
}

// Name returns "no-deadline".
func (*NoDeadline) Name() string { return NoDeadlineName }

// DefaultRule fires at once (the calls were made) and resolves a minute
// after the site's last call left the window.
func (*NoDeadline) DefaultRule() findings.Rule {
	return findings.Rule{For: -1, Clear: time.Minute, Cooldown: 10 * time.Minute}
}

// Detect implements [model.Detector].
func (d *NoDeadline) Detect(w model.Window) []model.Finding {
	latest := w.Latest()
	if latest == nil || len(latest.NoDeadline) == 0 {
		return nil
	}
	base := baseline(w, latest.Time.Add(-d.cfg.Window))
	var out []model.Finding
	for _, c := range latest.NoDeadline {
		n := c.Count
		if base != nil {
			for _, b := range base.NoDeadline {
				if b.Kind == c.Kind && b.Site == c.Site {
					n -= b.Count
				}
			}
		}
		if n < int64(d.cfg.Min) {
			continue
		}
		subj := c.Site.Site()
		what, advice := "HTTP requests", "Give the request a deadline at that line: build it with http.NewRequestWithContext from a "+
			"context.WithTimeout (or from the incoming request's context, if that has one), or set a Timeout on the http.Client it goes through."
		if c.Kind == model.CallSQL {
			what, advice = "SQL calls", "Pass a context with a deadline at that line: db.QueryContext/ExecContext with "+
				"context.WithTimeout (or the incoming request's context, if that has one) instead of Query/Exec or context.Background()."
		}
		target := ""
		if c.Target != "" {
			target = " to " + c.Target
		}
		ev := model.Evidence{Numbers: map[string]float64{
			"calls_in_window": float64(n),
			"calls_total":     float64(c.Count),
		}}
		if len(c.Stack) > 0 {
			ev.Stacks = []model.Stack{{Label: "a sampled call stack without a deadline", Frames: c.Stack}}
		}
		out = append(out, model.Finding{
			ID:       model.FindingID(NoDeadlineName, c.Kind+" "+subj),
			Detector: NoDeadlineName,
			Level:    model.LevelWarning,
			Title:    fmt.Sprintf("%s without a deadline at %s, %d in %s", what, subj, n, fmtWindow(d.cfg.Window)),
			Summary: fmt.Sprintf("%s (%s) made %d %s%s in the last %s whose context has no deadline (%d since the start, the latest at %s). "+
				"If the other side stops answering, each one waits for ever and holds its goroutine and connection. %s",
				subj, c.Site.ShortFunc(), n, what, target, fmtWindow(d.cfg.Window), c.Count, c.Last.UTC().Format(time.RFC3339), advice),
			Subject:  subj,
			Cause:    c.Kind,
			Evidence: ev,
		})
	}
	return out
}

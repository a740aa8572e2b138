package failures

import (
	"fmt"
	"time"

	"github.com/asyncmon/asyncmon/findings"
	"github.com/asyncmon/asyncmon/model"
)

// CrashName is the name of the crash detector.
const CrashName = "crash"

// CrashConfig holds the thresholds of the crash detector. The zero value
// means the defaults documented on each field.
type CrashConfig struct {
	// ReportFor is how long after the agent's start a crash of the
	// previous run is reported. Default 1h: long enough to be seen and
	// scraped, short enough not to page for ever.
	ReportFor time.Duration
}

func (c CrashConfig) withDefaults() CrashConfig {
	if c.ReportFor <= 0 {
		c.ReportFor = time.Hour
	}
	return c
}

// Crash reports the crash of an earlier run of the program, kept by the
// agent's crash output (runtime/debug.SetCrashOutput) and found at
// start, or found in a pasted crash output by asyncmon analyze: what
// crashed, the panic value or fatal error, the goroutine and the user's
// file:line, and when.
type Crash struct {
	cfg CrashConfig
}

// NewCrash returns a crash detector; zero fields of cfg take their
// defaults.
func NewCrash(cfg CrashConfig) *Crash { return &Crash{cfg: cfg.withDefaults()} }

// Name returns "crash".
func (*Crash) Name() string { return CrashName }

// DefaultRule fires at once and resolves a minute after ReportFor.
func (*Crash) DefaultRule() findings.Rule {
	return findings.Rule{For: -1, Clear: time.Minute, Cooldown: time.Hour}
}

// CrashSubject is the subject of a crash's finding: its site's
// file:line, or "process".
func CrashSubject(c *model.Crash) string {
	if c.Site.IsZero() {
		return "process"
	}
	return c.Site.Site()
}

// Detect implements [model.Detector].
func (d *Crash) Detect(w model.Window) []model.Finding {
	latest := w.Latest()
	if latest == nil || latest.Crash == nil {
		return nil
	}
	// A live agent reports the previous run's crash for ReportFor after
	// its start; a dump analysed offline has no start.
	if st := latest.Process.StartTime; !st.IsZero() && latest.Time.Sub(st) > d.cfg.ReportFor {
		return nil
	}
	c := latest.Crash
	subj := CrashSubject(c)
	what := "The program crashed"
	switch c.Kind {
	case "panic":
		what = "The program crashed on an unrecovered panic"
	case "fatal error":
		what = "The program crashed on a fatal runtime error"
	case "signal":
		what = "The program crashed on a fatal signal"
	}
	when := ""
	if !c.Time.IsZero() {
		when = " at " + c.Time.UTC().Format(time.RFC3339)
	}
	where := ""
	if !c.Site.IsZero() {
		where = fmt.Sprintf(" in %s (%s)", c.Site.ShortFunc(), c.Site.Site())
	}
	gor := ""
	if c.GoroutineID != 0 {
		gor = fmt.Sprintf(" on goroutine %d", c.GoroutineID)
	}
	ev := model.Evidence{}
	if len(c.Stack) > 0 {
		ev.Stacks = []model.Stack{{Label: fmt.Sprintf("crashing goroutine %d", c.GoroutineID), Frames: c.Stack}}
	}
	if c.Path != "" {
		ev.Notes = append(ev.Notes, "crash report kept in "+c.Path)
	}
	if c.Capture != "" {
		ev.Captures = []string{c.Capture}
	}
	if c.Goroutines > 0 {
		ev.Numbers = map[string]float64{"goroutines_in_report": float64(c.Goroutines)}
	}
	return []model.Finding{{
		ID:       model.FindingID(CrashName, subj),
		Detector: CrashName,
		Level:    model.LevelCritical,
		Title:    fmt.Sprintf("Crashed%s: %s: %s", where, c.Kind, c.Message),
		Summary: fmt.Sprintf("%s%s%s%s: %s: %s. Everything in flight was lost. "+
			"Fix the bug at that line; the full report shows every goroutine the runtime printed.",
			what, when, gor, where, c.Kind, c.Message),
		Subject:  subj,
		Cause:    c.Kind,
		Evidence: ev,
	}}
}

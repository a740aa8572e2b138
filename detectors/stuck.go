package detectors

import (
	"fmt"
	"slices"
	"time"

	"github.com/asyncmon/asyncmon/findings"
	"github.com/asyncmon/asyncmon/model"
)

// StuckName is the name of the stuck request detector.
const StuckName = "stuck-request"

// StuckConfig holds the thresholds of the stuck request detector. The zero
// value means the defaults documented on each field.
type StuckConfig struct {
	// After is the age over which a request in flight is stuck.
	// Default 30s: well past any sane client timeout.
	After time.Duration
	// Critical is the number of requests stuck at one site that makes
	// the finding critical. Default 5.
	Critical int
}

func (c StuckConfig) withDefaults() StuckConfig {
	if c.After <= 0 {
		c.After = 30 * time.Second
	}
	if c.Critical <= 0 {
		c.Critical = 5
	}
	return c
}

// StuckRequests reports HTTP requests in flight for longer than a
// threshold, as seen by the agent's optional request middleware, with the
// handler goroutine's stack. Requests stuck at the same place make one
// finding.
type StuckRequests struct {
	cfg StuckConfig
}

// NewStuckRequests returns a stuck request detector; zero fields of cfg
// take their defaults.
func NewStuckRequests(cfg StuckConfig) *StuckRequests {
	return &StuckRequests{cfg: cfg.withDefaults()}
}

// Name returns "stuck-request".
func (*StuckRequests) Name() string { return StuckName }

// DefaultRule fires at once (a request is already After old) and resolves
// after 30s without stuck requests.
func (*StuckRequests) DefaultRule() findings.Rule {
	return findings.Rule{For: -1, Clear: 30 * time.Second, Cooldown: 5 * time.Minute}
}

// stuckSite is where a stuck request's handler is: the innermost frame
// outside the runtime, sync and net/http plumbing.
func stuckSite(stack []model.Frame) model.Frame {
	if i := slices.IndexFunc(stack, model.Frame.IsUser); i >= 0 {
		return stack[i]
	}
	if i := slices.IndexFunc(stack, func(f model.Frame) bool { return f.Code() == model.StdCode }); i >= 0 {
		return stack[i]
	}
	return model.Frame{}
}

// Detect implements [model.Detector].
func (d *StuckRequests) Detect(w model.Window) []model.Finding {
	latest := w.Latest()
	if latest == nil {
		return nil
	}
	type site struct {
		subject string
		reqs    []model.Request
	}
	var order []string
	bySite := make(map[string]*site)
	for _, r := range latest.Requests {
		if r.AgeSeconds < d.cfg.After.Seconds() {
			continue
		}
		subj := r.Method + " " + r.Path
		if f := stuckSite(r.Stack); !f.IsZero() {
			subj = f.Site()
		}
		s := bySite[subj]
		if s == nil {
			s = &site{subject: subj}
			bySite[subj] = s
			order = append(order, subj)
		}
		s.reqs = append(s.reqs, r)
	}
	var out []model.Finding
	for _, subj := range order {
		s := bySite[subj]
		oldestReq := s.reqs[0]
		for _, r := range s.reqs {
			if r.AgeSeconds > oldestReq.AgeSeconds {
				oldestReq = r
			}
		}
		level := model.LevelWarning
		if len(s.reqs) >= d.cfg.Critical {
			level = model.LevelCritical
		}
		where := ""
		if f := stuckSite(oldestReq.Stack); !f.IsZero() {
			where = fmt.Sprintf(" Its handler goroutine (%d) is at %s.", oldestReq.GoroutineID, siteOf(f))
		}
		ev := model.Evidence{Numbers: map[string]float64{
			"stuck_requests":     float64(len(s.reqs)),
			"oldest_age_seconds": oldestReq.AgeSeconds,
		}}
		for i, r := range s.reqs {
			if i >= 3 {
				break
			}
			if len(r.Stack) > 0 {
				ev.Stacks = append(ev.Stacks, model.Stack{
					Label:  fmt.Sprintf("handler goroutine %d of %s %s, in flight for %s", r.GoroutineID, r.Method, r.Path, model.FormatSeconds(r.AgeSeconds)),
					Frames: r.Stack,
				})
			}
		}
		out = append(out, model.Finding{
			ID:       model.FindingID(StuckName, subj),
			Detector: StuckName,
			Level:    level,
			Title:    fmt.Sprintf("%d request(s) stuck at %s", len(s.reqs), subj),
			Summary: fmt.Sprintf(
				"%d HTTP request(s) have been in flight for over %s; the oldest, %s %s, since %s.%s "+
					"The handler waits on something that does not answer: a lock, a channel, or a downstream call without a deadline. "+
					"Give downstream calls a context with a timeout, and look at the stack for what it waits on.",
				len(s.reqs), d.cfg.After, oldestReq.Method, oldestReq.Path, oldestReq.Started.UTC().Format(time.RFC3339), where),
			Subject:  subj,
			Evidence: ev,
		})
	}
	return out
}

package findings

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/model"
)

// Lifecycle defaults, used for a detector that suggests no [Rule] of its own
// and for fields that neither the detector nor the user set.
const (
	defaultFor          = 10 * time.Second
	defaultClear        = 30 * time.Second
	defaultCooldown     = 5 * time.Minute
	defaultKeepResolved = time.Hour
	defaultMaxResolved  = 100
	defaultMaxActive    = 500
)

// Rule is the lifecycle policy of one detector's findings.
//
// For the three durations, zero means "the detector's suggestion, else the
// engine default" and a negative value means "none". In JSON they are
// float seconds, for_seconds, clear_seconds and cooldown_seconds, like
// every duration in asyncmon's JSON (docs/api.md).
type Rule struct {
	// For is how long a condition must hold before its finding fires.
	// Optional. Default: the detector's suggestion, else 10s.
	For time.Duration `json:"-"`
	// Clear is how long a firing finding's condition must be absent
	// before the finding resolves: the hysteresis that stops flapping.
	// Optional. Default: the detector's suggestion, else 30s.
	Clear time.Duration `json:"-"`
	// Cooldown is how long after resolving a finding with the same ID may
	// not fire again; a condition that comes back sooner stays pending.
	// Optional. Default: the detector's suggestion, else 5m.
	Cooldown time.Duration `json:"-"`
	// Silence drops all findings of the detector. Optional. Default false.
	Silence bool `json:"silence,omitempty"`
	// MinLevel raises findings below this level to it (e.g. "critical"
	// to page on any leak). Optional. Default: levels as reported.
	MinLevel model.Level `json:"min_level,omitempty"`
}

// Ruler is implemented by detectors that suggest their own lifecycle rule.
type Ruler interface {
	DefaultRule() Rule
}

// merge returns r with its unset fields taken from base.
func (r Rule) merge(base Rule) Rule {
	if r.For == 0 {
		r.For = base.For
	}
	if r.Clear == 0 {
		r.Clear = base.Clear
	}
	if r.Cooldown == 0 {
		r.Cooldown = base.Cooldown
	}
	if r.MinLevel == "" {
		r.MinLevel = base.MinLevel
	}
	r.Silence = r.Silence || base.Silence
	return r
}

// Config configures an [Engine]. The zero value works. In JSON,
// KeepResolved is float seconds, keep_resolved_seconds.
type Config struct {
	// Rules are per-detector lifecycle rules, keyed by detector name.
	// Set fields override the detector's suggestion. Optional.
	Rules map[string]Rule `json:"rules,omitempty"`
	// KeepResolved is how long resolved findings are kept. Optional.
	// Default 1h.
	KeepResolved time.Duration `json:"-"`
	// MaxResolved bounds the number of resolved findings kept, newest
	// kept. Optional. Default 100.
	MaxResolved int `json:"max_resolved,omitempty"`
	// MaxActive bounds the number of pending and firing findings; new
	// conditions beyond it are dropped (and counted in
	// [Engine.Dropped]). Optional. Default 500.
	MaxActive int `json:"max_active,omitempty"`
}

// MarshalJSON encodes r with its durations as float seconds named
// *_seconds.
func (r Rule) MarshalJSON() ([]byte, error) {
	type plain Rule
	return json.Marshal(struct {
		plain
		ForSeconds      float64 `json:"for_seconds,omitempty"`
		ClearSeconds    float64 `json:"clear_seconds,omitempty"`
		CooldownSeconds float64 `json:"cooldown_seconds,omitempty"`
	}{plain(r), r.For.Seconds(), r.Clear.Seconds(), r.Cooldown.Seconds()})
}

// UnmarshalJSON decodes what MarshalJSON encodes.
func (r *Rule) UnmarshalJSON(data []byte) error {
	type plain Rule
	var v struct {
		*plain
		ForSeconds      float64 `json:"for_seconds"`
		ClearSeconds    float64 `json:"clear_seconds"`
		CooldownSeconds float64 `json:"cooldown_seconds"`
	}
	v.plain = (*plain)(r)
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	r.For = model.SecondsDuration(v.ForSeconds)
	r.Clear = model.SecondsDuration(v.ClearSeconds)
	r.Cooldown = model.SecondsDuration(v.CooldownSeconds)
	return nil
}

// MarshalJSON encodes c with KeepResolved as float seconds,
// keep_resolved_seconds.
func (c Config) MarshalJSON() ([]byte, error) {
	type plain Config
	return json.Marshal(struct {
		plain
		KeepResolvedSeconds float64 `json:"keep_resolved_seconds,omitempty"`
	}{plain(c), c.KeepResolved.Seconds()})
}

// UnmarshalJSON decodes what MarshalJSON encodes.
func (c *Config) UnmarshalJSON(data []byte) error {
	type plain Config
	var v struct {
		*plain
		KeepResolvedSeconds float64 `json:"keep_resolved_seconds"`
	}
	v.plain = (*plain)(c)
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	c.KeepResolved = model.SecondsDuration(v.KeepResolvedSeconds)
	return nil
}

// DetectorError reports a detector that panicked during a pass. The engine
// recovers the panic, counts it and goes on with the other detectors.
type DetectorError struct {
	Detector string
	Panic    any
}

// Error says which detector panicked, and with what.
func (e *DetectorError) Error() string {
	return fmt.Sprintf("detector %s panicked: %v", e.Detector, e.Panic)
}

// Result is what one engine pass changed.
type Result struct {
	// Fired are the findings that started firing in this pass, and the
	// firing findings whose level rose in it.
	Fired []model.Finding
	// Resolved are the findings that resolved in this pass.
	Resolved []model.Finding
	// Errors are the detectors that panicked in this pass, as
	// *DetectorError.
	Errors []error
}

// tracked is one pending or firing finding.
type tracked struct {
	f        model.Finding
	rule     Rule
	lastTrue time.Time
	// extra is evidence added by Annotate; it survives the detector's
	// next reports, which replace the rest of the evidence.
	extra model.Evidence
	// floor, cause and subject are set by Amend: a level the finding
	// keeps at least, and the cause and subject it then reports.
	floor   model.Level
	cause   string
	subject string
}

// Engine runs detectors over windows and keeps the lifecycle of their
// findings. Its methods are safe for concurrent use; Run is meant to be
// called from one goroutine, after each collection. The engine uses the
// window's newest snapshot time as "now", so it is a deterministic function
// of the windows it is given.
type Engine struct {
	cfg       Config
	detectors []model.Detector
	rules     []Rule // per detector, merged

	mu sync.Mutex // guards the fields below
	// active are the pending and firing findings by ID.
	active map[string]*tracked
	// resolved are resolved findings, oldest first.
	resolved []model.Finding
	// cooling maps an ID to when it last resolved, for the cooldown.
	cooling map[string]time.Time
	panics  map[string]uint64
	dropped uint64
}

// NewEngine returns an engine over the given detectors. Detectors with an
// empty name or a duplicate name are an error.
func NewEngine(cfg Config, ds ...model.Detector) (*Engine, error) {
	if cfg.KeepResolved <= 0 {
		cfg.KeepResolved = defaultKeepResolved
	}
	if cfg.MaxResolved <= 0 {
		cfg.MaxResolved = defaultMaxResolved
	}
	if cfg.MaxActive <= 0 {
		cfg.MaxActive = defaultMaxActive
	}
	e := &Engine{
		cfg:     cfg,
		active:  make(map[string]*tracked),
		cooling: make(map[string]time.Time),
		panics:  make(map[string]uint64),
	}
	names := make(map[string]bool)
	for _, d := range ds {
		if d == nil {
			continue
		}
		name := d.Name()
		if name == "" {
			return nil, fmt.Errorf("detector %T has an empty name", d)
		}
		if names[name] {
			return nil, fmt.Errorf("two detectors named %q", name)
		}
		names[name] = true
		e.detectors = append(e.detectors, d)
		e.rules = append(e.rules, e.ruleFor(d))
	}
	return e, nil
}

// ruleFor merges the user's rule, the detector's suggestion and the engine
// defaults, and turns "none" (negative) into zero.
func (e *Engine) ruleFor(d model.Detector) Rule {
	r := e.cfg.Rules[d.Name()]
	if s, ok := d.(Ruler); ok {
		r = r.merge(s.DefaultRule())
	}
	r = r.merge(Rule{For: defaultFor, Clear: defaultClear, Cooldown: defaultCooldown})
	r.For = max(r.For, 0)
	r.Clear = max(r.Clear, 0)
	r.Cooldown = max(r.Cooldown, 0)
	return r
}

// Detectors returns the names of the engine's detectors with their
// effective rules.
func (e *Engine) Detectors() map[string]Rule {
	m := make(map[string]Rule, len(e.detectors))
	for i, d := range e.detectors {
		m[d.Name()] = e.rules[i]
	}
	return m
}

// Run runs every detector over w and updates the findings. An empty
// window changes nothing.
func (e *Engine) Run(w model.Window) Result {
	var res Result
	latest := w.Latest()
	if latest == nil {
		return res
	}
	now := latest.Time

	// Detect outside the lock: detectors may take a while, and readers
	// of Findings must not wait for them.
	reports := make([][]model.Finding, len(e.detectors))
	for i, d := range e.detectors {
		if e.rules[i].Silence {
			continue
		}
		fs, err := Detect(d, w)
		if err != nil {
			res.Errors = append(res.Errors, err)
		}
		reports[i] = fs
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	for _, err := range res.Errors {
		if de, ok := err.(*DetectorError); ok {
			e.panics[de.Detector]++
		}
	}
	seen := make(map[string]bool)
	for i, d := range e.detectors {
		rule := e.rules[i]
		for _, f := range reports[i] {
			f.Detector = d.Name()
			if f.ID == "" {
				f.ID = model.FindingID(f.Detector, f.Subject)
			}
			if seen[f.ID] {
				continue
			}
			seen[f.ID] = true
			if rule.MinLevel.Rank() > f.Level.Rank() {
				f.Level = rule.MinLevel
			}
			e.observe(f, rule, now, &res)
		}
	}
	for id, t := range e.active {
		if seen[id] {
			continue
		}
		switch t.f.State {
		case model.StatePending:
			delete(e.active, id)
		case model.StateFiring:
			if now.Sub(t.lastTrue) >= t.rule.Clear {
				f := t.f
				f.State = model.StateResolved
				f.ResolvedAt = now
				delete(e.active, id)
				e.resolved = append(e.resolved, f)
				e.cooling[id] = now
				res.Resolved = append(res.Resolved, f)
			}
		}
	}
	e.prune(now)
	return res
}

// observe records one report of a condition that holds at now.
func (e *Engine) observe(f model.Finding, rule Rule, now time.Time, res *Result) {
	t, ok := e.active[f.ID]
	if !ok {
		if len(e.active) >= e.cfg.MaxActive {
			e.dropped++
			return
		}
		f.State = model.StatePending
		f.FirstSeen = now
		t = &tracked{f: f, rule: rule}
		e.active[f.ID] = t
	}
	prevLevel := t.f.Level
	f.State, f.FirstSeen = t.f.State, t.f.FirstSeen
	f.LastSeen = now
	f.Evidence = mergeEvidence(f.Evidence, t.extra)
	if t.floor.Rank() > f.Level.Rank() {
		f.Level = t.floor
	}
	if t.cause != "" {
		f.Cause = t.cause
	}
	if t.subject != "" {
		f.Subject = t.subject
	}
	t.f, t.rule, t.lastTrue = f, rule, now

	switch t.f.State {
	case model.StatePending:
		if now.Sub(t.f.FirstSeen) < rule.For {
			return
		}
		if at, ok := e.cooling[f.ID]; ok && now.Sub(at) < rule.Cooldown {
			return
		}
		delete(e.cooling, f.ID)
		t.f.State = model.StateFiring
		res.Fired = append(res.Fired, t.f)
	case model.StateFiring:
		if t.f.Level.Rank() > prevLevel.Rank() {
			res.Fired = append(res.Fired, t.f)
		}
	}
}

// prune drops resolved findings past their keep time or count, and
// cooldowns that have run out.
func (e *Engine) prune(now time.Time) {
	cut := 0
	for cut < len(e.resolved) && now.Sub(e.resolved[cut].ResolvedAt) > e.cfg.KeepResolved {
		cut++
	}
	cut = max(cut, len(e.resolved)-e.cfg.MaxResolved)
	if cut > 0 {
		e.resolved = slices.Delete(e.resolved, 0, cut)
	}
	var longest time.Duration
	for _, r := range e.rules {
		longest = max(longest, r.Cooldown)
	}
	for id, at := range e.cooling {
		if now.Sub(at) >= longest {
			delete(e.cooling, id)
		}
	}
}

// Findings returns the firing, pending and resolved findings: active ones
// first (most severe, then oldest, first), then resolved ones, newest first.
func (e *Engine) Findings() []model.Finding {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]model.Finding, 0, len(e.active)+len(e.resolved))
	for _, t := range e.active {
		out = append(out, t.f)
	}
	slices.SortFunc(out, func(a, b model.Finding) int {
		return cmp.Or(
			cmp.Compare(stateRank(b.State), stateRank(a.State)),
			cmp.Compare(b.Level.Rank(), a.Level.Rank()),
			a.FirstSeen.Compare(b.FirstSeen),
			cmp.Compare(a.ID, b.ID),
		)
	})
	for i := len(e.resolved) - 1; i >= 0; i-- {
		out = append(out, e.resolved[i])
	}
	return out
}

func stateRank(s model.State) int {
	switch s {
	case model.StateFiring:
		return 2
	case model.StatePending:
		return 1
	}
	return 0
}

// Finding returns the active or resolved finding with the given ID.
func (e *Engine) Finding(id string) (model.Finding, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if t, ok := e.active[id]; ok {
		return t.f, true
	}
	for i := len(e.resolved) - 1; i >= 0; i-- {
		if e.resolved[i].ID == id {
			return e.resolved[i], true
		}
	}
	return model.Finding{}, false
}

// Annotate adds evidence (such as capture IDs or the hottest functions of
// a CPU profile) to an active finding; it is kept across later passes. It
// reports whether the finding was active.
func (e *Engine) Annotate(id string, ev model.Evidence) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	t, ok := e.active[id]
	if !ok {
		return false
	}
	t.extra = mergeEvidence(t.extra, ev)
	t.f.Evidence = mergeEvidence(t.f.Evidence, ev)
	return true
}

// Amendment is what was learnt about a finding after it fired, such as
// the runtime confirming a leak or a CPU profile naming the hot code.
type Amendment struct {
	// Level raises the finding to at least this level while it stays
	// active. Optional.
	Level model.Level
	// Cause and Subject replace the detector's while the finding stays
	// active (its ID does not change). Optional.
	Cause   string
	Subject string
	// Evidence is added to the finding's. Optional.
	Evidence model.Evidence
}

// Amend changes an active finding with what was learnt after it fired;
// the changes survive the detector's later reports. It reports whether
// the finding's level rose.
func (e *Engine) Amend(id string, am Amendment) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	t, ok := e.active[id]
	if !ok {
		return false
	}
	t.extra = mergeEvidence(t.extra, am.Evidence)
	t.f.Evidence = mergeEvidence(t.f.Evidence, am.Evidence)
	if am.Cause != "" {
		t.cause, t.f.Cause = am.Cause, am.Cause
	}
	if am.Subject != "" {
		t.subject, t.f.Subject = am.Subject, am.Subject
	}
	if am.Level.Rank() > t.floor.Rank() {
		t.floor = am.Level
	}
	if am.Level.Rank() <= t.f.Level.Rank() {
		return false
	}
	t.f.Level = am.Level
	return true
}

// Panics returns how many times each detector has panicked.
func (e *Engine) Panics() map[string]uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	m := make(map[string]uint64, len(e.panics))
	for k, v := range e.panics {
		m[k] = v
	}
	return m
}

// Dropped returns how many new conditions were dropped because
// Config.MaxActive findings were already active.
func (e *Engine) Dropped() uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.dropped
}

// Detect runs one detector over w, turning a panic into a
// *DetectorError: the one place where detector panics are handled, for the
// engine and for offline analysis.
func Detect(d model.Detector, w model.Window) (fs []model.Finding, err error) {
	defer func() {
		if p := recover(); p != nil {
			fs, err = nil, &DetectorError{Detector: d.Name(), Panic: p}
		}
	}()
	return d.Detect(w), nil
}

// mergeEvidence returns a new Evidence with b's items appended to a's. It
// never writes into a's or b's slices or maps, which may be shared with
// findings already handed out.
func mergeEvidence(a, b model.Evidence) model.Evidence {
	if b.Numbers == nil && b.Stacks == nil && b.Notes == nil && b.Captures == nil {
		return a
	}
	out := model.Evidence{
		Stacks:   concat(a.Stacks, b.Stacks),
		Notes:    concatUnique(a.Notes, b.Notes),
		Captures: concatUnique(a.Captures, b.Captures),
	}
	if len(a.Numbers)+len(b.Numbers) > 0 {
		out.Numbers = make(map[string]float64, len(a.Numbers)+len(b.Numbers))
		for k, v := range a.Numbers {
			out.Numbers[k] = v
		}
		for k, v := range b.Numbers {
			out.Numbers[k] = v
		}
	}
	return out
}

func concat[T any](a, b []T) []T {
	if len(a)+len(b) == 0 {
		return nil
	}
	out := make([]T, 0, len(a)+len(b))
	return append(append(out, a...), b...)
}

func concatUnique(a, b []string) []string {
	out := concat(a, nil)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

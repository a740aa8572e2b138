package findings

import (
	"errors"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/model"
)

// scripted is a detector whose condition is set by the test before each
// pass: a pure function of its fields, like a real detector.
type scripted struct {
	name  string
	hold  bool
	level model.Level
	rule  *Rule
	boom  bool
}

func (d *scripted) Name() string { return d.name }

func (d *scripted) Detect(w model.Window) []model.Finding {
	if d.boom {
		panic("boom")
	}
	if !d.hold {
		return nil
	}
	return []model.Finding{{
		Level:    d.level,
		Title:    "x",
		Subject:  "main.go:1",
		Evidence: model.Evidence{Numbers: map[string]float64{"n": 1}},
	}}
}

func (d *scripted) DefaultRule() Rule {
	if d.rule != nil {
		return *d.rule
	}
	return Rule{}
}

var t0 = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

func at(sec int) model.Window {
	return model.Window{Snapshots: []*model.Snapshot{{Time: t0.Add(time.Duration(sec) * time.Second)}}}
}

func TestEngineLifecycle(t *testing.T) {
	d := &scripted{name: "d", level: model.LevelWarning, rule: &Rule{For: 3 * time.Second, Clear: 5 * time.Second, Cooldown: 20 * time.Second}}
	e, err := NewEngine(Config{}, d)
	if err != nil {
		t.Fatal(err)
	}
	id := model.FindingID("d", "main.go:1")
	type step struct {
		sec      int
		hold     bool
		state    model.State // "" means absent
		fired    bool
		resolved bool
	}
	steps := []step{
		{sec: 0, hold: true, state: model.StatePending},
		{sec: 1, hold: true, state: model.StatePending},
		{sec: 2, hold: false, state: ""}, // pending drops at once
		{sec: 3, hold: true, state: model.StatePending},
		{sec: 5, hold: true, state: model.StatePending},
		{sec: 6, hold: true, state: model.StateFiring, fired: true},
		{sec: 7, hold: true, state: model.StateFiring},
		{sec: 9, hold: false, state: model.StateFiring}, // hysteresis
		{sec: 10, hold: true, state: model.StateFiring}, // back: no new firing
		{sec: 14, hold: false, state: model.StateFiring},
		{sec: 15, hold: false, state: model.StateResolved, resolved: true},
		{sec: 16, hold: true, state: model.StatePending},
		{sec: 30, hold: true, state: model.StatePending}, // cooldown until 35
		{sec: 35, hold: true, state: model.StateFiring, fired: true},
	}
	for _, s := range steps {
		d.hold = s.hold
		res := e.Run(at(s.sec))
		f, ok := e.Finding(id)
		var got model.State
		if ok {
			got = f.State
		}
		if got != s.state {
			t.Fatalf("t=%ds: state %q, want %q", s.sec, got, s.state)
		}
		if (len(res.Fired) > 0) != s.fired {
			t.Errorf("t=%ds: fired %v, want %v", s.sec, res.Fired, s.fired)
		}
		if (len(res.Resolved) > 0) != s.resolved {
			t.Errorf("t=%ds: resolved %v, want %v", s.sec, res.Resolved, s.resolved)
		}
		if ok && f.Detector != "d" {
			t.Errorf("t=%ds: detector %q, want d", s.sec, f.Detector)
		}
	}
	fs := e.Findings()
	if len(fs) != 2 || fs[0].State != model.StateFiring || fs[1].State != model.StateResolved {
		t.Fatalf("Findings() = %+v, want one firing then one resolved", fs)
	}
	if want := t0.Add(16 * time.Second); !fs[0].FirstSeen.Equal(want) {
		t.Errorf("FirstSeen %v, want %v", fs[0].FirstSeen, want)
	}
	if want := t0.Add(15 * time.Second); !fs[1].ResolvedAt.Equal(want) {
		t.Errorf("ResolvedAt %v, want %v", fs[1].ResolvedAt, want)
	}
}

func TestEngineRules(t *testing.T) {
	tests := []struct {
		name      string
		rule      Rule
		level     model.Level
		wantState model.State
		wantLevel model.Level
	}{
		{name: "defaults pend", rule: Rule{}, level: model.LevelInfo, wantState: model.StatePending, wantLevel: model.LevelInfo},
		{name: "for none fires at once", rule: Rule{For: -1}, level: model.LevelInfo, wantState: model.StateFiring, wantLevel: model.LevelInfo},
		{name: "min level raises", rule: Rule{For: -1, MinLevel: model.LevelCritical}, level: model.LevelWarning, wantState: model.StateFiring, wantLevel: model.LevelCritical},
		{name: "min level never lowers", rule: Rule{For: -1, MinLevel: model.LevelInfo}, level: model.LevelCritical, wantState: model.StateFiring, wantLevel: model.LevelCritical},
		{name: "silence", rule: Rule{For: -1, Silence: true}, level: model.LevelCritical, wantState: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := &scripted{name: "d", hold: true, level: tc.level}
			e, err := NewEngine(Config{Rules: map[string]Rule{"d": tc.rule}}, d)
			if err != nil {
				t.Fatal(err)
			}
			e.Run(at(0))
			f, ok := e.Finding(model.FindingID("d", "main.go:1"))
			if tc.wantState == "" {
				if ok {
					t.Fatalf("got %+v, want no finding", f)
				}
				return
			}
			if f.State != tc.wantState || f.Level != tc.wantLevel {
				t.Fatalf("got state %q level %q, want %q %q", f.State, f.Level, tc.wantState, tc.wantLevel)
			}
		})
	}
}

func TestEngineEscalationFires(t *testing.T) {
	d := &scripted{name: "d", hold: true, level: model.LevelWarning, rule: &Rule{For: -1}}
	e, _ := NewEngine(Config{}, d)
	if res := e.Run(at(0)); len(res.Fired) != 1 {
		t.Fatalf("fired %d, want 1", len(res.Fired))
	}
	if res := e.Run(at(1)); len(res.Fired) != 0 {
		t.Fatalf("fired %d on a steady pass, want 0", len(res.Fired))
	}
	d.level = model.LevelCritical
	res := e.Run(at(2))
	if len(res.Fired) != 1 || res.Fired[0].Level != model.LevelCritical {
		t.Fatalf("fired %+v, want one critical", res.Fired)
	}
}

func TestEngineAnnotateSurvivesPasses(t *testing.T) {
	d := &scripted{name: "d", hold: true, level: model.LevelWarning, rule: &Rule{For: -1}}
	e, _ := NewEngine(Config{}, d)
	e.Run(at(0))
	id := model.FindingID("d", "main.go:1")
	if !e.Annotate(id, model.Evidence{Captures: []string{"c1"}, Notes: []string{"hot: f"}}) {
		t.Fatal("Annotate on an active finding returned false")
	}
	e.Run(at(1))
	e.Run(at(2))
	f, _ := e.Finding(id)
	if len(f.Evidence.Captures) != 1 || f.Evidence.Captures[0] != "c1" || len(f.Evidence.Notes) != 1 {
		t.Fatalf("evidence after passes = %+v, want the capture and note once", f.Evidence)
	}
	if f.Evidence.Numbers["n"] != 1 {
		t.Fatalf("detector's numbers lost: %+v", f.Evidence)
	}
	if e.Annotate("nope", model.Evidence{Notes: []string{"x"}}) {
		t.Fatal("Annotate on an unknown finding returned true")
	}
}

func TestEngineRecoversPanics(t *testing.T) {
	bad := &scripted{name: "bad", boom: true}
	good := &scripted{name: "good", hold: true, level: model.LevelInfo, rule: &Rule{For: -1}}
	e, _ := NewEngine(Config{}, bad, good)
	res := e.Run(at(0))
	var de *DetectorError
	if len(res.Errors) != 1 || !errors.As(res.Errors[0], &de) || de.Detector != "bad" {
		t.Fatalf("errors %v, want one DetectorError from bad", res.Errors)
	}
	if len(res.Fired) != 1 {
		t.Fatalf("fired %d, want the good detector's finding", len(res.Fired))
	}
	if got := e.Panics()["bad"]; got != 1 {
		t.Fatalf("panics %d, want 1", got)
	}
}

func TestEngineBounds(t *testing.T) {
	d := &scripted{name: "d", level: model.LevelInfo, rule: &Rule{For: -1, Clear: -1, Cooldown: -1}}
	e, _ := NewEngine(Config{MaxResolved: 3, KeepResolved: 10 * time.Second}, d)
	for i := 0; i < 10; i++ {
		d.hold = true
		e.Run(at(2 * i))
		d.hold = false
		e.Run(at(2*i + 1))
	}
	fs := e.Findings()
	if len(fs) != 3 {
		t.Fatalf("kept %d resolved findings, want 3", len(fs))
	}
	e.Run(at(100))
	if fs := e.Findings(); len(fs) != 0 {
		t.Fatalf("kept %d findings past KeepResolved, want 0", len(fs))
	}
}

func TestNewEngineRejectsBadNames(t *testing.T) {
	if _, err := NewEngine(Config{}, &scripted{name: ""}); err == nil {
		t.Error("empty name accepted")
	}
	if _, err := NewEngine(Config{}, &scripted{name: "a"}, &scripted{name: "a"}); err == nil {
		t.Error("duplicate name accepted")
	}
}

func TestEngineEmptyWindow(t *testing.T) {
	e, _ := NewEngine(Config{}, &scripted{name: "d", hold: true})
	if res := e.Run(model.Window{}); len(res.Fired)+len(res.Resolved)+len(res.Errors) != 0 {
		t.Fatalf("empty window changed things: %+v", res)
	}
	if fs := e.Findings(); len(fs) != 0 {
		t.Fatalf("findings after empty window: %v", fs)
	}
}

func TestEngineAmend(t *testing.T) {
	d := &scripted{name: "d", hold: true, level: model.LevelWarning, rule: &Rule{For: -1}}
	e, _ := NewEngine(Config{}, d)
	e.Run(at(0))
	id := model.FindingID("d", "main.go:1")
	if !e.Amend(id, Amendment{Level: model.LevelCritical, Cause: "confirmed", Subject: "hot.go:7", Evidence: model.Evidence{Notes: []string{"runtime says so"}}}) {
		t.Fatal("Amend to critical did not raise the level")
	}
	if e.Amend(id, Amendment{Level: model.LevelWarning}) {
		t.Fatal("Amend to a lower level reported a rise")
	}
	e.Run(at(1)) // the detector still reports warning, main.go:1
	f, _ := e.Finding(id)
	if f.Level != model.LevelCritical || f.Cause != "confirmed" || f.Subject != "hot.go:7" || len(f.Evidence.Notes) != 1 {
		t.Fatalf("after a pass: %+v, want critical, confirmed, hot.go:7, the note", f)
	}
	if e.Amend("nope", Amendment{Level: model.LevelCritical}) {
		t.Fatal("Amend on an unknown finding returned true")
	}
}

package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/agent"
	"github.com/asyncmon/asyncmon/agent/capture"
	"github.com/asyncmon/asyncmon/findings"
	"github.com/asyncmon/asyncmon/model"
)

// stuckCache always reports one warning, with a stack and a number.
type stuckCache struct{}

func (stuckCache) Name() string { return "test" }
func (stuckCache) Detect(model.Window) []model.Finding {
	return []model.Finding{{
		Level:   model.LevelWarning,
		Title:   "cache lock held",
		Summary: "the cache lock has been held for a minute",
		Subject: "/src/cache.go:31",
		Evidence: model.Evidence{
			Numbers: map[string]float64{"held_seconds": 60},
			Stacks:  []model.Stack{{Label: "holder", Frames: []model.Frame{{Func: "svc.(*Cache).Get", File: "/src/cache.go", Line: 31}}}},
		},
	}}
}

func TestFindingsCommand(t *testing.T) {
	a, err := agent.Start(context.Background(), agent.Options{
		Addr:      "127.0.0.1:0",
		Interval:  50 * time.Millisecond,
		Detectors: []model.Detector{stuckCache{}},
		Lifecycle: findings.Config{Rules: map[string]findings.Rule{"test": {For: -1}}},
		Capture:   capture.Options{Dir: t.TempDir(), NoCPUProfile: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	deadline := time.Now().Add(10 * time.Second)
	for len(a.Findings()) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}

	code, out, stderr := runCmd(t, "findings", a.Addr())
	if code != 3 {
		t.Fatalf("exit code %d with a warning firing, want 3 (stderr %q)", code, stderr)
	}
	for _, want := range []string{"WARNING [test] cache lock held", "subject /src/cache.go:31", "svc.(*Cache).Get", "/src/cache.go:31", "/api/v1/captures/"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	code, out, _ = runCmd(t, "findings", a.Addr(), "--json", "--state", "firing")
	var fs []model.Finding
	if err := json.Unmarshal([]byte(out), &fs); err != nil || code != 3 || len(fs) != 1 || fs[0].Detector != "test" {
		t.Fatalf("--json: code %d, err %v, findings %+v", code, err, fs)
	}

	code, out, _ = runCmd(t, "findings", a.Addr(), "--state", "resolved")
	if code != 0 || !strings.Contains(out, "No findings") {
		t.Errorf("no resolved findings: code %d, output %q", code, out)
	}
	// A detector this agent does not run is a mistake worth saying, not
	// an empty list.
	code, _, stderr = runCmd(t, "findings", a.Addr(), "--detector", "starvation")
	if code == 0 || !strings.Contains(stderr, `no detector "starvation" runs here`) {
		t.Errorf("a detector that does not run: code %d, stderr %q", code, stderr)
	}
	if code, _, stderr := runCmd(t, "findings", a.Addr(), "--state", "weird"); code != 2 || !strings.Contains(stderr, "state") {
		t.Errorf("bad state: code %d, stderr %q; want 2", code, stderr)
	}
}

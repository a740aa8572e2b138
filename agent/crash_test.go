package agent_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/asyncmon/asyncmon/agent"
	"github.com/asyncmon/asyncmon/agent/capture"
	"github.com/asyncmon/asyncmon/model"
)

// TestCrashReportOfThePreviousRun: a crash output left by an earlier run
// in the crash directory is kept, reported as a critical finding naming
// the panic value, goroutine and line, and saved as a capture; the
// runtime's crash output then goes to a fresh, empty file.
func TestCrashReportOfThePreviousRun(t *testing.T) {
	dir := t.TempDir()
	report, err := os.ReadFile(filepath.Join("..", "collectors", "dump", "testdata", "dumps", "go1.26-panic.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "crash.out"), report, 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := agent.Start(context.Background(), agent.Options{NoListen: true, Crash: agent.CrashOptions{Dir: dir},
		Capture: capture.Options{Dir: t.TempDir(), NoCPUProfile: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var crash *model.Finding
	for _, f := range a.Findings() {
		if f.Detector == "crash" {
			crash = &f
		}
	}
	if crash == nil {
		t.Fatalf("no crash finding in %+v", a.Findings())
	}
	if crash.State != model.StateFiring || crash.Level != model.LevelCritical ||
		!strings.Contains(crash.Summary, "panic: again: boom") || !strings.Contains(crash.Summary, "goroutine 1") ||
		crash.Subject != "gen/main.go:136" {
		t.Errorf("crash finding = %+v", *crash)
	}
	if cs := crash.Evidence.Captures; len(cs) == 0 || !strings.HasSuffix(cs[0], "-crash") {
		t.Errorf("captures = %v, want the report first", cs)
	}
	if s := a.Latest(); s.Crash == nil || s.Crash.Path == "" {
		t.Fatalf("snapshot crash = %+v", s.Crash)
	}
	kept, err := os.ReadFile(a.Latest().Crash.Path)
	if err != nil || string(kept) != string(report) {
		t.Errorf("kept report differs (err %v)", err)
	}
	if st, err := os.Stat(filepath.Join(dir, "crash.out")); err != nil || st.Size() != 0 {
		t.Errorf("fresh crash output: %v, %v", st, err)
	}
}

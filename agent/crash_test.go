package agent_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
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

// TestCrashReportsAreBounded: only the newest Keep reports stay, and a
// start without a crash keeps them all and reports nothing.
func TestCrashReportsAreBounded(t *testing.T) {
	dir := t.TempDir()
	for i := range 6 {
		name := filepath.Join(dir, "crash-2026010"+string(rune('1'+i))+"T000000.000000000Z.txt")
		if err := os.WriteFile(name, []byte("panic: old\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "crash.out"), []byte("panic: new\n\ngoroutine 1 [running]:\nmain.main()\n\t/src/main.go:3 +0x1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	start := func() *agent.Agent {
		a, err := agent.Start(context.Background(), agent.Options{NoListen: true, NoCapture: true, Crash: agent.CrashOptions{Dir: dir, Keep: 3}})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	a := start()
	c := a.Latest().Crash
	a.Close()
	if c == nil || c.Message != "new" || c.Site.Site() != "/src/main.go:3" {
		t.Fatalf("crash = %+v", c)
	}
	kept, _ := filepath.Glob(filepath.Join(dir, "crash-*.txt"))
	if len(kept) != 3 || !slices.Contains(kept, c.Path) {
		t.Fatalf("kept %v, want the 3 newest with %s", kept, c.Path)
	}
	a = start()
	defer a.Close()
	if c := a.Latest().Crash; c != nil {
		t.Errorf("a clean previous run reported a crash: %+v", c)
	}
	if again, _ := filepath.Glob(filepath.Join(dir, "crash-*.txt")); len(again) != 3 {
		t.Errorf("kept %v after a clean start", again)
	}
}

//go:build unix

package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

var (
	buildOnce sync.Once
	builtBin  string
	builtList []Entry
	buildErr  error
)

// build compiles the corpus once per test binary, into a directory
// removed by TestMain.
func build(t *testing.T) (string, []Entry) {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		if os.Getenv("ASYNCMON_TEST_STRICT") != "" {
			t.Fatalf("the go command is needed to build the corpus: %v", err)
		}
		t.Skipf("SKIPPED LOUDLY: the go command is needed to build the corpus: %v", err)
	}
	buildOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if builtBin, buildErr = Build(ctx, "local", buildDir); buildErr == nil {
			builtList, buildErr = List(ctx, builtBin)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin, builtList
}

var buildDir string

func TestMain(m *testing.M) {
	var err error
	if buildDir, err = os.MkdirTemp("", "asyncmon-corpus-test-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(buildDir)
	os.Exit(code)
}

// alive reports whether a process exists (signal 0 reaches it).
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// TestCorpusComplete checks the corpus itself: every program directory
// is built into the binary, the classes and sizes the corpus promises
// are there, and every buggy program marks its blocking lines.
func TestCorpusComplete(t *testing.T) {
	_, es := build(t)
	dirs, err := filepath.Glob(filepath.Join(Dir(), "progs", "*", "*"))
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	perClass := map[string]int{}
	bugs, healthy := 0, 0
	minLeak, maxLeak := 1<<30, 0
	for _, e := range es {
		listed = append(listed, e.Dir)
		perClass[e.Class]++
		if filepath.Base(filepath.Dir(e.Dir)) != e.Class || filepath.Base(e.Dir) != e.Name {
			t.Errorf("%s: lives in %s, want progs/%s/%s", e.Name, e.Dir, e.Class, e.Name)
		}
		if e.Healthy() {
			healthy++
			continue
		}
		bugs++
		if e.Leaks < 1 || e.Leaks > 1000 {
			t.Errorf("%s: leaks %d goroutines, want 1 to 1,000", e.Name, e.Leaks)
		}
		minLeak, maxLeak = min(minLeak, e.Leaks), max(maxLeak, e.Leaks)
	}
	for _, d := range dirs {
		if !slices.Contains(listed, d) {
			t.Errorf("%s is not in the corpus binary: import it in cmd/prog/programs.go", d)
		}
	}
	for _, c := range corpus.Classes {
		if perClass[c] == 0 {
			t.Errorf("no program in class %s", c)
		}
	}
	if bugs < 40 || healthy < 15 {
		t.Errorf("%d buggy and %d healthy programs, want at least 40 and 15", bugs, healthy)
	}
	if minLeak != 1 || maxLeak != 1000 {
		t.Errorf("leaks range from %d to %d goroutines, want 1 to 1,000", minLeak, maxLeak)
	}
}

// TestShort runs the short subset end to end, as CI does: the programs
// build, start, print their agent's address, are polled every second and
// killed at the end. Each buggy one must really be stuck at its marked
// lines (the corpus works), and no healthy one may raise a warning or
// critical finding. Recall is reported, not asserted: it is what the
// detectors are measured on (go run ./corpus/cmd/diagnose).
func TestShort(t *testing.T) {
	bin, es := build(t)
	var short []Entry
	for _, e := range es {
		if e.Short {
			short = append(short, e)
		}
	}
	if len(short) < 10 {
		t.Fatalf("the short subset has %d programs, want at least 10", len(short))
	}
	const watch = 60 * time.Second
	res := Run(context.Background(), bin, short, Options{Parallel: 10, Timeout: watch})
	for _, r := range res {
		switch {
		case r.Err != "":
			t.Errorf("%s: %s", r.Name, r.Err)
		case r.Polls < int(watch/time.Second)/2:
			t.Errorf("%s: the findings were read %d times in %s, want at least %d", r.Name, r.Polls, watch, int(watch/time.Second)/2)
		case !r.Exited || alive(r.PID):
			t.Errorf("%s: pid %d was not killed and reaped", r.Name, r.PID)
		}
		if r.Healthy() {
			for _, a := range r.Alarms {
				t.Errorf("%s (healthy): false alarm: %s", r.Name, a)
			}
			continue
		}
		if r.Stuck < 1 {
			t.Errorf("%s: no goroutine stuck at its marked sites %v at the end: the bug did not happen", r.Name, r.Sites)
		}
		t.Log(r.line())
	}
	if testing.Verbose() {
		Text(os.Stderr, []Set{{GoVersion: res[0].GoVersion, Results: res}})
	}
}

// TestCancelKillsChildren checks that ending the run's context (Ctrl-C in
// the command) kills and reaps every program at once.
func TestCancelKillsChildren(t *testing.T) {
	bin, es := build(t)
	var some []Entry
	for _, e := range es {
		if e.Short && len(some) < 3 {
			some = append(some, e)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(5*time.Second, cancel)
	start := time.Now()
	res := Run(ctx, bin, some, Options{Timeout: 10 * time.Minute})
	if d := time.Since(start); d > 2*time.Minute {
		t.Errorf("Run returned %s after the cancel", d)
	}
	for _, r := range res {
		if r.PID == 0 {
			t.Errorf("%s: never started: %s", r.Name, r.Err)
			continue
		}
		if !r.Exited || alive(r.PID) {
			t.Errorf("%s: pid %d outlived the cancelled run", r.Name, r.PID)
		}
	}
}

// TestBrokenProgram checks that a program that dies, or never says where
// its agent listens, is an error and not a quiet result.
func TestBrokenProgram(t *testing.T) {
	dir := t.TempDir()
	for name, script := range map[string]string{
		"dies":   "#!/bin/sh\necho boom >&2\nexit 3\n",
		"silent": "#!/bin/sh\necho hello\nexec sleep 30\n",
		"exits":  "#!/bin/sh\necho asyncmon-agent 127.0.0.1:1 go0\nsleep 2\nexit 0\n",
	} {
		bin := filepath.Join(dir, name)
		if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		e := Entry{Program: corpus.Program{Name: name, Class: corpus.Healthy}}
		res := Run(context.Background(), bin, []Entry{e}, Options{Timeout: 5 * time.Second})
		if r := res[0]; r.Err == "" || !r.Exited {
			t.Errorf("%s: Err %q, Exited %v; want an error, reaped", name, r.Err, r.Exited)
		} else {
			t.Logf("%s: %s", name, r.Err)
		}
	}
}

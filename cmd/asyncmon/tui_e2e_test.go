package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/agent"
	"github.com/asyncmon/asyncmon/internal/testenv"
)

// buildAsyncmon builds this command into a temporary directory.
func buildAsyncmon(t *testing.T) string {
	t.Helper()
	gobin := testenv.LookPath(t, "go", "/usr/local/go/bin")
	bin := filepath.Join(t.TempDir(), "asyncmon")
	out, err := exec.Command(gobin, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// tmuxSession is a detached tmux session on a private server socket.
type tmuxSession struct {
	t    *testing.T
	tmux string
	sock string
}

func newTmux(t *testing.T, width, height int, command string) *tmuxSession {
	t.Helper()
	s := &tmuxSession{t: t, tmux: testenv.LookPath(t, "tmux"), sock: fmt.Sprintf("asyncmon-e2e-%d-%d", os.Getpid(), time.Now().UnixNano())}
	t.Cleanup(func() { exec.Command(s.tmux, "-L", s.sock, "kill-server").Run() })
	// A UTF-8 locale whatever the CI's: under LANG=C the UI draws its
	// symbols in ASCII, which the expectations below do not spell.
	s.run("new-session", "-d", "-s", "e2e", "-x", fmt.Sprint(width), "-y", fmt.Sprint(height), "export LC_ALL=C.UTF-8; "+command)
	return s
}

func (s *tmuxSession) run(args ...string) string {
	s.t.Helper()
	out, err := exec.Command(s.tmux, append([]string{"-L", s.sock}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %q: %v\n%s", args, err, out)
	}
	return string(out)
}

func (s *tmuxSession) keys(keys ...string) {
	s.t.Helper()
	s.run(append([]string{"send-keys", "-t", "e2e"}, keys...)...)
}

func (s *tmuxSession) literal(text string) {
	s.t.Helper()
	s.run("send-keys", "-t", "e2e", "-l", text)
}

// waitFor polls the pane until it shows every want.
func (s *tmuxSession) waitFor(want ...string) string {
	s.t.Helper()
	return s.waitForWithin(20*time.Second, want...)
}

// waitForWithin is waitFor with its own deadline.
func (s *tmuxSession) waitForWithin(d time.Duration, want ...string) string {
	s.t.Helper()
	deadline := time.Now().Add(d)
	var pane string
	for time.Now().Before(deadline) {
		out, err := exec.Command(s.tmux, "-L", s.sock, "capture-pane", "-p", "-t", "e2e").CombinedOutput()
		pane = string(out)
		if err == nil && containsAll(pane, want) {
			return pane
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("pane never showed %q; last pane:\n%s", want, pane)
	return ""
}

// waitGone polls the pane until it no longer shows gone.
func (s *tmuxSession) waitGone(gone string) {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var pane string
	for time.Now().Before(deadline) {
		out, err := exec.Command(s.tmux, "-L", s.sock, "capture-pane", "-p", "-t", "e2e").CombinedOutput()
		pane = string(out)
		if err == nil && !strings.Contains(pane, gone) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("pane still shows %q:\n%s", gone, pane)
}

func containsAll(s string, want []string) bool {
	for _, w := range want {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}

// waitFile polls until path exists and returns its content.
func waitFile(t *testing.T, path string, d time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			return strings.TrimSpace(string(b))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not appear within %v", path, d)
	return ""
}

// TestDemoTUIInTmux runs `asyncmon demo --scenario all` in a real terminal
// (tmux), drives the UI with keys and reads the screen at each step.
func TestDemoTUIInTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs a terminal session")
	}
	bin := buildAsyncmon(t)
	dir := t.TempDir()
	exitFile := filepath.Join(dir, "exit")
	runtimeDir := filepath.Join(dir, "run")
	if err := os.Mkdir(runtimeDir, 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := fmt.Sprintf("cd %s && XDG_RUNTIME_DIR=%s TMPDIR=%s %s demo --addr 127.0.0.1:0 --agent-addr 127.0.0.1:0 --scenario all; echo EXIT=$? > %s",
		dir, runtimeDir, dir, bin, exitFile)
	s := newTmux(t, 120, 40, cmd)

	s.waitFor("1 Overview", "2 Goroutines", "5 Findings", " live ", "sched latency p99", "goroutines", "asyncmon demo (all)")

	s.keys("2")
	pane := s.waitFor("COUNT↓", "STATE", "PARKED IN")
	hasGroups := !strings.Contains(pane, "no goroutine groups yet")
	s.keys("/")
	// Every goroutine of the agent and the demo has "asyncmon" in its
	// files, so the filtered table has rows from the first sample on.
	s.literal("asyncmon")
	s.waitFor("filter: asyncmon")
	if hasGroups {
		s.waitFor(`filter "asyncmon"`)
		s.waitGone(`filter "asyncmon": 0 groups`)
	}
	s.keys("Enter")
	s.waitFor("filter (/ edits")
	if hasGroups {
		s.keys("Enter")
		// A group says who created its goroutines, or, from the
		// concurrent profile (no creation sites), where they started.
		pane := s.waitFor("group — Esc to go back", "stack")
		if !strings.Contains(pane, "created by") && !strings.Contains(pane, "started in") {
			t.Errorf("group details name neither a creator nor a start function:\n%s", pane)
		}
		s.keys("Escape")
		s.waitGone("group — Esc to go back")
	} else {
		t.Log("the agent in this build samples no goroutine groups; skipping the group details step")
	}

	s.keys("b")
	s.waitFor("block sites", "mutex sites")
	s.keys("4")
	s.waitFor("KIND", "AGE", "pools")
	s.keys("5")
	s.waitFor("STATE", "TITLE")
	// The injected faults make the detectors fire within seconds: the
	// list shows a firing finding, and Enter its plain-words details.
	s.waitForWithin(90*time.Second, "5 Findings (") // the tab counts firing ones
	s.keys("Home", "Enter")
	s.waitFor("finding — s saves captures, Esc goes back", "firing from ", "first seen")
	s.keys("Escape")
	s.waitGone("finding — s saves captures")
	s.keys("?")
	s.waitFor("help — ? or Esc closes", "space  pause or resume")
	s.keys("Escape")
	s.waitGone("space  pause or resume")
	s.keys("Space")
	s.waitFor("PAUSED")
	s.keys("Space")
	s.keys("q")
	if got := waitFile(t, exitFile, 15*time.Second); got != "EXIT=0" {
		t.Errorf("demo exited with %s, want EXIT=0", got)
	}
	// The agent unregistered itself on the way out.
	if ents, _ := os.ReadDir(filepath.Join(runtimeDir, "asyncmon")); len(ents) != 0 {
		t.Errorf("registry not cleaned up: %v", ents)
	}
}

// TestAttachSurvivesAgentRestart attaches to an agent in this process,
// closes the agent (the UI says disconnected and keeps the last data),
// starts a new one on the same address (the UI resumes by itself), and
// records the session to a file that replay then reads.
func TestAttachSurvivesAgentRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs a terminal session")
	}
	bin := buildAsyncmon(t)
	ctx := context.Background()
	a, err := agent.Start(ctx, agent.Options{Addr: "127.0.0.1:0", Interval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	addr := a.Addr()
	defer func() { a.Close() }()

	dir := t.TempDir()
	exitFile := filepath.Join(dir, "exit")
	rec := filepath.Join(dir, "session.jsonl.gz")
	cmd := fmt.Sprintf("cd %s && %s attach --record %s %s; echo EXIT=$? > %s", dir, bin, rec, addr, exitFile)
	s := newTmux(t, 100, 30, cmd)
	s.waitFor(" live ", addr, "sched latency p99", "● recording")

	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	s.waitFor("disconnected — retrying", "refused")
	s.waitFor("sched latency p99") // the last data stays on screen

	a, err = agent.Start(ctx, agent.Options{Addr: addr, Interval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s.waitFor(" live ")
	s.waitGone("disconnected")
	s.keys("q")
	if got := waitFile(t, exitFile, 15*time.Second); got != "EXIT=0" {
		t.Fatalf("attach exited with %s, want EXIT=0", got)
	}

	// The recording plays back in the same UI.
	exitFile2 := filepath.Join(dir, "exit2")
	s2 := newTmux(t, 100, 30, fmt.Sprintf("%s replay --speed 50 %s; echo EXIT=$? > %s", bin, rec, exitFile2))
	s2.waitFor("replay ended", "session.jsonl.gz from "+addr, "sched latency p99")
	s2.keys("q")
	if got := waitFile(t, exitFile2, 15*time.Second); got != "EXIT=0" {
		t.Fatalf("replay exited with %s, want EXIT=0", got)
	}
}

// TestAttachToPlainPprofService attaches to a separate Go program that
// serves only net/http/pprof: the UI says so, shows its goroutine groups,
// and says which views it cannot feed.
func TestAttachToPlainPprofService(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two binaries and runs a terminal session")
	}
	bin := buildAsyncmon(t)
	gobin := testenv.LookPath(t, "go", "/usr/local/go/bin")
	svcBin := filepath.Join(t.TempDir(), "pprofonly")
	if out, err := exec.Command(gobin, "build", "-o", svcBin, "./testdata/pprofonly").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	svc := exec.Command(svcBin)
	stdout, err := svc.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		svc.Process.Kill()
		svc.Wait()
	})
	var line [64]byte
	n, err := stdout.Read(line[:])
	if err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimSpace(string(line[:n]))

	dir := t.TempDir()
	exitFile := filepath.Join(dir, "exit")
	s := newTmux(t, 120, 30, fmt.Sprintf("%s attach %s; echo EXIT=$? > %s", bin, addr, exitFile))
	s.waitFor("(pprof only)", "pprof only: scheduler latency", "goroutines")
	s.keys("2")
	s.waitFor("COUNT↓", "25", "chan receive", "main.parkedWorker", "main.go:")
	s.keys("Enter")
	// The concurrent profile a pprof-only target is polled for has no
	// creation sites: the group says where its goroutines started.
	s.waitFor("25 goroutines", "started in", "main.parkedWorker")
	s.keys("Escape")
	s.waitGone("group — Esc to go back")
	s.keys("4")
	s.waitFor("connections are tracked by the asyncmon agent")
	s.keys("5") // the dump detectors run: nothing wrong with this one
	s.waitFor("no findings")
	s.keys("q")
	if got := waitFile(t, exitFile, 15*time.Second); got != "EXIT=0" {
		t.Fatalf("attach exited with %s, want EXIT=0", got)
	}
}

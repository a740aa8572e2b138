package demo

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/model"
)

// childEnv makes the test binary a demo process: TestScenarioChild runs
// the scenario it names until killed. Scenarios leak and deadlock for
// real, so they run in a subprocess that is killed afterwards, not in
// this test process.
const childEnv = "ASYNCMON_DEMO_CHILD_SCENARIO"

func TestScenarioChild(t *testing.T) {
	sc := os.Getenv(childEnv)
	if sc == "" {
		t.Skip("runs only as the subprocess of TestScenarios")
	}
	d, err := Start(context.Background(), Options{Addr: "127.0.0.1:0", AgentAddr: "127.0.0.1:0", Scenario: sc})
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	fmt.Println("AGENT", d.Agent().Addr())
	// Serve until the parent closes stdin or kills us.
	_, _ = io.Copy(io.Discard, os.Stdin)
	os.Exit(0) // the scenario's stuck goroutines die with the process
}

// demoChild starts the demo with scenario in a subprocess and returns the
// agent's address. The process is killed when the test ends.
func demoChild(t *testing.T, scenario string) string {
	t.Helper()
	return demoChildIn(t, scenario, t.TempDir())
}

// childCmd is the command of a demo child running scenario, with state
// (where the agent keeps crash reports) in stateDir.
func childCmd(scenario, stateDir string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestScenarioChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+scenario, "XDG_STATE_HOME="+stateDir)
	return cmd
}

// demoChildIn is demoChild with the agent's state in stateDir.
func demoChildIn(t *testing.T, scenario, stateDir string) string {
	t.Helper()
	cmd := childCmd(scenario, stateDir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if addr, ok := strings.CutPrefix(sc.Text(), "AGENT "); ok {
			go io.Copy(io.Discard, out) //nolint: the pipe closes when the child exits
			return addr
		}
		if strings.HasPrefix(sc.Text(), "ERROR") {
			t.Fatalf("demo child: %s", sc.Text())
		}
	}
	t.Fatalf("demo child exited before printing its agent address: %v", sc.Err())
	return ""
}

// logAgentState logs what the detectors saw last, for a scenario that
// did not fire: the collection's pace, the budget, the scheduler and the
// largest goroutine groups.
func logAgentState(t *testing.T, addr string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/api/v1/snapshot")
	if err != nil {
		t.Logf("agent state: %v", err)
		return
	}
	defer resp.Body.Close()
	var s model.Snapshot
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Logf("agent state: %v", err)
		return
	}
	t.Logf("agent state: seq %d, interval %.1fs, budget stretched %v, group table %s old, %d goroutines; scheduler p99 %.3fs, mutex wait total %.2fs",
		s.Seq, s.IntervalSeconds, s.BudgetStretched, s.Time.Sub(s.GroupsTime).Round(time.Second), s.Goroutines.Total,
		s.Scheduler.LatencyP99, s.Scheduler.MutexWaitSecondsTotal)
	for i, g := range s.Groups {
		if i == 8 {
			break
		}
		t.Logf("  group: %d x %s at %s", g.Count, g.WaitReason, g.Site().Site())
	}
}

func findings(t *testing.T, addr string) []model.Finding {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/api/v1/findings")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var fs []model.Finding
	if err := json.NewDecoder(resp.Body).Decode(&fs); err != nil {
		t.Fatal(err)
	}
	return fs
}

// site returns "path/demo/file:N" for the line of file containing marker.
func site(t *testing.T, file, marker string) string {
	t.Helper()
	_, self, _, _ := runtime.Caller(0)
	path := filepath.Join(filepath.Dir(self), file)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, marker) {
			return path + ":" + strconv.Itoa(i+1)
		}
	}
	t.Fatalf("%s: no line with %q", file, marker)
	return ""
}

// TestScenarios runs each fault scenario of the demo in a subprocess and
// checks that the agent's /api/v1/findings shows the right finding, at
// the right file:line, in bounded time. The target is 60 s; the bound is
// 90 s because the test machine is shared and, at a load average of 16
// on 2 cores, the agent stretches its interval under its CPU budget. The
// log says how long each took.
func TestScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo for minutes")
	}
	tests := []struct {
		scenario, detector string
		within             time.Duration
		ok                 func(t *testing.T, f model.Finding) bool
	}{
		{"goroutine-leak", "goroutine-leak", 90 * time.Second, func(t *testing.T, f model.Finding) bool {
			// Warning without proof (Go 1.26); critical once the
			// runtime's goroutineleak profile confirms it (Go 1.27).
			return f.Subject == site(t, "scenario_leak.go", "parks here for ever") &&
				(f.Level == model.LevelWarning || f.Level == model.LevelCritical && f.Cause == "confirmed")
		}},
		{"deadlock", "deadlock", 90 * time.Second, func(t *testing.T, f model.Finding) bool {
			return f.Cause == "lock-cycle" && f.Level == model.LevelCritical &&
				strings.Contains(f.Summary, site(t, "scenario_deadlock.go", "B after A")) &&
				strings.Contains(f.Summary, site(t, "scenario_deadlock.go", "A after B"))
		}},
		{"conn-leak", "conn-leak", 60 * time.Second, func(t *testing.T, f model.Finding) bool {
			return f.Subject == site(t, "scenario_connleak.go", "opens the body that leaks below") ||
				f.Subject == site(t, "scenario_connleak.go", "opens the rows that leak below")
		}},
		{"panic", "panic", 75 * time.Second, func(t *testing.T, f model.Finding) bool {
			return f.Subject == site(t, "scenario_panic.go", "panics: index out of range") &&
				strings.Contains(f.Summary, "index out of range") && strings.Contains(f.Title, "handlers panic at")
		}},
		{"no-timeout", "no-deadline", 75 * time.Second, func(t *testing.T, f model.Finding) bool {
			return f.Subject == site(t, "scenario_notimeout.go", "the call without a deadline") &&
				strings.Contains(f.Title, "without a deadline")
		}},
		{"overload", "overload", 75 * time.Second, func(t *testing.T, f model.Finding) bool {
			// On a loaded test machine the scheduler may be starved as
			// well, and the finding then says so; never "stuck".
			return (f.Cause == "no-shedding" || f.Cause == "starved") && strings.Contains(strings.Join(f.Evidence.Notes, "\n"), "GET /api/report")
		}},
		{"crash", "crash", 30 * time.Second, func(t *testing.T, f model.Finding) bool {
			return f.Subject == site(t, "scenario_crash.go", "fatal error: unlock of unlocked mutex") &&
				strings.Contains(f.Summary, "fatal error: sync: unlock of unlocked mutex") && f.Level == model.LevelCritical
		}},
		{"starvation", "starvation", 90 * time.Second, func(t *testing.T, f model.Finding) bool {
			// The function and its file, not the line: the profiler may
			// credit the loop header or the call inside it.
			hot, _, _ := strings.Cut(site(t, "scenario_starvation.go", "the hot loop"), ":")
			for _, n := range f.Evidence.Notes {
				if strings.Contains(n, "deriveToken ("+hot+":") {
					return f.Cause == "cpu-saturated"
				}
			}
			return false
		}},
	}
	for _, tc := range tests {
		t.Run(tc.scenario, func(t *testing.T) {
			state := t.TempDir()
			if tc.scenario == "crash" {
				crashChild(t, state)
			}
			scenario := tc.scenario
			if scenario == "crash" {
				scenario = "healthy" // the next start of the same executable
			}
			addr := demoChildIn(t, scenario, state)
			start := time.Now()
			for {
				var seen []string
				for _, f := range findings(t, addr) {
					if f.Detector == tc.detector && f.State == model.StateFiring && tc.ok(t, f) {
						t.Logf("fired after %s: %s", time.Since(start).Round(time.Second), f.Summary)
						return
					}
					seen = append(seen, fmt.Sprintf("%s/%s/%s %s", f.Detector, f.State, f.Cause, f.Subject))
				}
				if time.Since(start) > tc.within {
					logAgentState(t, addr)
					t.Fatalf("no matching %s finding within %s; findings: %v", tc.detector, tc.within, seen)
				}
				time.Sleep(time.Second) // polling interval
			}
		})
	}
}

// crashChild runs the crash scenario in a subprocess until it dies, and
// checks that it died of the crash: a non-zero exit within 60 s with the
// fatal error on standard error.
func crashChild(t *testing.T, stateDir string) {
	t.Helper()
	cmd := childCmd("crash", stateDir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	cmd.Stdout = io.Discard
	stdin, err := cmd.StdinPipe() // the child serves until stdin closes
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() == 0 {
			t.Fatalf("crash child exited with %v, want a non-zero status", err)
		}
		if !strings.Contains(stderr.String(), "fatal error: sync: unlock of unlocked mutex") {
			t.Fatalf("crash child's output lacks the fatal error:\n%s", stderr.String())
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatal("the crash scenario did not crash within 60 s")
	}
}

// TestHealthyRaisesNothing is the false-positive guard: the healthy demo
// under its load (workers parked on a channel, keep-alive connections,
// timers, a background ticker) must raise no warning or critical finding
// for a sustained period. ASYNCMON_GUARD_SECONDS sets the period (default
// 120).
func TestHealthyRaisesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo for minutes")
	}
	period := 120 * time.Second
	if v, err := strconv.Atoi(os.Getenv("ASYNCMON_GUARD_SECONDS")); err == nil && v > 0 {
		period = time.Duration(v) * time.Second
	}
	addr := demoChild(t, "healthy")
	end := time.Now().Add(period)
	polls := 0
	for time.Now().Before(end) {
		for _, f := range findings(t, addr) {
			if f.State != model.StatePending && f.Level.Rank() >= model.LevelWarning.Rank() {
				t.Fatalf("healthy demo raised %s %s finding after %d polls: %s", f.Level, f.Detector, polls, f.Summary)
			}
		}
		polls++
		time.Sleep(2 * time.Second) // polling interval
	}
	resp, err := http.Get("http://" + addr + "/api/v1/snapshot")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s model.Snapshot
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	if s.Goroutines.CreatedTotal < 1000 {
		t.Fatalf("only %d goroutines created: the load did not run", s.Goroutines.CreatedTotal)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/agent"
	"github.com/asyncmon/asyncmon/model"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsageAndBadInput(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no command", nil, 2, ""},
		{"help", []string{"help"}, 0, ""},
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"bad flag", []string{"snapshot", "--nope"}, 2, "flag provided but not defined"},
		{"too many args", []string{"snapshot", "a:1", "b:2"}, 2, "too many arguments"},
		{"bad scenario", []string{"demo", "--scenario", "meltdown"}, 2, `unknown scenario "meltdown"`},
		{"command help", []string{"snapshot", "-h"}, 0, "Usage: asyncmon snapshot"},
		{"unreachable agent", []string{"snapshot", "127.0.0.1:1"}, 1, "connection refused"},
		{"bad address", []string{"snapshot", "ftp://x"}, 2, "scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tt.wantCode, stderr)
			}
			if !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("stderr %q does not contain %q", stderr, tt.wantErr)
			}
		})
	}
}

func TestSnapshotCommand(t *testing.T) {
	a, err := agent.Start(context.Background(), agent.Options{Addr: "127.0.0.1:0", Interval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()

	code, out, stderr := runCmd(t, "snapshot", a.Addr())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"scheduler latency", "p99", "timer probe lag", "goroutines", "runnable", "waiting", "collectors: scheduler"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	code, out, stderr = runCmd(t, "snapshot", a.Addr(), "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var s model.Snapshot
	if err := json.Unmarshal([]byte(out), &s); err != nil || s.Seq == 0 {
		t.Errorf("--json output is not a snapshot (%v): %.200s", err, out)
	}
}

func TestSnapshotOfPlainPprofHints(t *testing.T) {
	srv := pprofOnly(t)
	code, _, stderr := runCmd(t, "snapshot", srv.URL)
	if code != 1 || !strings.Contains(stderr, "asyncmon attach") || !strings.Contains(stderr, "asyncmon analyze") {
		t.Errorf("exit %d, stderr %q; want 1 with a hint to attach or analyze", code, stderr)
	}
}

func TestBusyPortErrorIsNotDoublyPrefixed(t *testing.T) {
	a, err := agent.Start(context.Background(), agent.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	code, _, stderr := runCmd(t, "demo", "--no-tui", "--addr", "127.0.0.1:0", "--agent-addr", a.Addr())
	if code != 1 || !strings.Contains(stderr, "asyncmon demo: listen on "+a.Addr()) {
		t.Errorf("exit %d, stderr %q; want 1 and 'asyncmon demo: listen on %s'", code, stderr, a.Addr())
	}
}

// TestSnapshotByPID: like attach, the one-shot commands take a PID and
// find that process's agent in the local registry.
func TestSnapshotByPID(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir()) // a registry of our own
	a, err := agent.Start(context.Background(), agent.Options{Addr: "127.0.0.1:0", Interval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	code, out, stderr := runCmd(t, "snapshot", strconv.Itoa(os.Getpid()), "--json")
	var s model.Snapshot
	if code != 0 || json.Unmarshal([]byte(out), &s) != nil || s.Process.PID != os.Getpid() {
		t.Fatalf("snapshot by pid: exit %d, stderr %q, pid %d", code, stderr, s.Process.PID)
	}
	// No argument: the only registered agent.
	if code, _, stderr := runCmd(t, "snapshot"); code != 0 {
		t.Errorf("snapshot of the only local agent: exit %d, %s", code, stderr)
	}
	if code, _, stderr := runCmd(t, "findings", "999999999"); code == 0 || !strings.Contains(stderr, "no agent registered for pid") {
		t.Errorf("unknown pid: exit %d, stderr %q", code, stderr)
	}
}

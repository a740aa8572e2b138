package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/pprof"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/asyncmon/asyncmon/agent"
	"github.com/asyncmon/asyncmon/agent/client"
)

func TestUICommandsUsage(t *testing.T) {
	dir := t.TempDir()
	future := filepath.Join(dir, "future.jsonl")
	os.WriteFile(future, []byte(`{"asyncmon_recording":9}`+"\n"), 0o600)
	dump := filepath.Join(dir, "dump.txt")
	os.WriteFile(dump, []byte("goroutine 1 [running]:\nmain.main()\n"), 0o600)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"attach help", []string{"attach", "-h"}, 0, "Usage: asyncmon attach"},
		{"attach without a terminal", []string{"attach", "127.0.0.1:1"}, 1, "needs a terminal"},
		{"attach too many", []string{"attach", "a:1", "b:2"}, 2, "too many arguments"},
		{"ls help", []string{"ls", "-h"}, 0, "Usage: asyncmon ls"},
		{"replay help", []string{"replay", "-h"}, 0, "Usage: asyncmon replay"},
		{"replay no file", []string{"replay"}, 2, "needs the recording FILE"},
		{"replay bad speed", []string{"replay", "--speed", "0", future}, 2, "--speed must be positive"},
		{"replay missing file", []string{"replay", filepath.Join(dir, "nope")}, 1, "no such file"},
		{"replay future version", []string{"replay", future}, 1, "version 9, this asyncmon reads up to version 1; upgrade asyncmon"},
		{"replay not a recording", []string{"replay", dump}, 1, "not an asyncmon recording"},
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

func TestLsAndResolveTarget(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	ctx := context.Background()

	code, out, _ := runCmd(t, "ls")
	if code != 0 || !strings.Contains(out, "no local agents") {
		t.Errorf("ls with no agents: %d %q", code, out)
	}
	if _, err := resolveTarget(ctx, "", nil); err == nil || !strings.Contains(err.Error(), "no local agent is running") {
		t.Errorf("resolve with no agents: %v", err)
	}

	a, err := agent.Start(ctx, agent.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	pid := strconv.Itoa(os.Getpid())
	code, out, _ = runCmd(t, "ls")
	if code != 0 || !strings.Contains(out, "PID") || !strings.Contains(out, pid) || !strings.Contains(out, a.Addr()) || !strings.Contains(out, " ok") {
		t.Errorf("ls: %d\n%s", code, out)
	}
	code, out, _ = runCmd(t, "ls", "--json")
	var got []client.LocalAgent
	if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil || len(got) != 1 || got[0].Addr != a.Addr() {
		t.Errorf("ls --json: %d %v %q", code, err, out)
	}

	for _, target := range []string{"", pid} {
		if addr, err := resolveTarget(ctx, target, nil); err != nil || addr != a.Addr() {
			t.Errorf("resolveTarget(%q) = %q, %v; want %s", target, addr, err, a.Addr())
		}
	}
	if addr, err := resolveTarget(ctx, "10.1.2.3:7071", nil); err != nil || addr != "10.1.2.3:7071" {
		t.Errorf("an address resolves to itself: %q, %v", addr, err)
	}
	if _, err := resolveTarget(ctx, "999999999", nil); err == nil || !strings.Contains(err.Error(), "no agent registered for pid 999999999") {
		t.Errorf("unknown pid: %v", err)
	}

	b, err := agent.Start(ctx, agent.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	_, err = resolveTarget(ctx, "", nil)
	if err == nil || !strings.Contains(err.Error(), "several local agents") || !strings.Contains(err.Error(), b.Addr()) {
		t.Errorf("two agents: %v", err)
	}
	// On a terminal the user picks one.
	addr, err := resolveTarget(ctx, "", func(_ context.Context, as []client.LocalAgent) (int, error) {
		for i, x := range as {
			if x.Addr == b.Addr() {
				return i, nil
			}
		}
		return 0, nil
	})
	if err != nil || addr != b.Addr() {
		t.Errorf("chosen agent: %q, %v; want %s", addr, err, b.Addr())
	}
}

// pprofOnly serves net/http/pprof the way a service that never embedded
// asyncmon does, and nothing else.
func pprofOnly(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/pprof"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/agent"
	"github.com/google/pprof/profile"
)

func TestCaptureFromAgent(t *testing.T) {
	a, err := agent.Start(context.Background(), agent.Options{Addr: "127.0.0.1:0", Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	dir := t.TempDir()
	for _, kind := range []string{"cpu", "goroutine", "heap", "wall"} {
		t.Run(kind, func(t *testing.T) {
			out := filepath.Join(dir, kind+".pb.gz")
			code, _, stderr := runCmd(t, "capture", a.Addr(), "--kind", kind, "--seconds", "1", "-o", out)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			f, err := os.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			p, err := profile.Parse(f)
			if err != nil {
				t.Fatalf("%s capture is not a valid profile: %v", kind, err)
			}
			if kind == "goroutine" && len(p.Sample) == 0 {
				t.Error("goroutine profile has no samples")
			}
		})
	}
}

// TestCaptureFromPlainPprof captures from a process that serves only
// net/http/pprof, with no agent.
func TestCaptureFromPlainPprof(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"capture", srv.URL, "--kind", "goroutine", "-o", "-"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if _, err := profile.Parse(&out); err != nil {
		t.Fatalf("not a profile: %v", err)
	}
}

func TestCaptureBadInputLeavesNoFile(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "keep.pb.gz")
	if err := os.WriteFile(out, []byte("earlier capture"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"bad kind", []string{"capture", "--kind", "gpu", "-o", out}, 2, `--kind "gpu"`},
		{"no output", []string{"capture", "--kind", "cpu"}, 2, "-o FILE is required"},
		{"bad seconds", []string{"capture", "--seconds", "0", "-o", out}, 2, "--seconds 0"},
		{"unreachable", []string{"capture", "127.0.0.1:1", "--kind", "heap", "-o", out}, 1, "connection refused"},
		{"not found", []string{"capture", "PLACEHOLDER", "--kind", "heap", "-o", out}, 1, "404"},
	}
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, a := range tt.args {
				if a == "PLACEHOLDER" {
					tt.args[i] = srv.URL
				}
			}
			code, _, stderr := runCmd(t, tt.args...)
			if code != tt.wantCode || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("exit %d stderr %q, want %d and %q", code, stderr, tt.wantCode, tt.wantErr)
			}
			if b, _ := os.ReadFile(out); string(b) != "earlier capture" {
				t.Errorf("the earlier file was changed to %q", b)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("left %d files behind, want only the earlier one", len(entries))
			}
		})
	}
}

package agent

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/agent/capture"
	"github.com/asyncmon/asyncmon/findings"
	"github.com/asyncmon/asyncmon/model"
)

// always fires one warning finding.
type always struct{}

func (always) Name() string { return "always" }
func (always) Detect(model.Window) []model.Finding {
	return []model.Finding{{Level: model.LevelWarning, Title: "test", Subject: "x.go:1"}}
}

func TestFlightRecorderCapture(t *testing.T) {
	a := start(t, Options{
		Interval:  100 * time.Millisecond,
		Detectors: []model.Detector{always{}},
		Lifecycle: findings.Config{Rules: map[string]findings.Rule{"always": {For: -1}}},
		Capture:   capture.Options{Dir: t.TempDir(), Trace: true, TraceWindow: time.Second, NoCPUProfile: true},
	})
	f := waitFinding(t, a.Addr(), "always", 30*time.Second, func(f model.Finding) bool {
		return hasKinds(f.Evidence.Captures, "goroutine", "trace", "block", "mutex")
	})
	var id string
	for _, c := range f.Evidence.Captures {
		if strings.HasSuffix(c, "-trace") {
			id = c
		}
	}
	resp, err := http.Get("http://" + a.Addr() + "/api/v1/captures/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	// A Go execution trace starts with its version header.
	if resp.StatusCode != http.StatusOK || !bytes.HasPrefix(body, []byte("go 1.")) {
		t.Fatalf("trace capture: %d, %d bytes, starts %q", resp.StatusCode, len(body), body[:min(len(body), 16)])
	}
	if strings.Contains(strings.Join(f.Evidence.Notes, " "), "no CPU profile") {
		t.Errorf("a CPU profile was attempted with CPUProfile < 0: %v", f.Evidence.Notes)
	}
}

// TestStartWithUnwritableTempDir: an agent in a read-only file system must
// start; only its captures can fail. The capture directory is made at the
// first capture, not at Start.
func TestStartWithUnwritableTempDir(t *testing.T) {
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", filepath.Join(notADir, "tmp")) // mkdir fails, even as root
	t.Setenv("XDG_RUNTIME_DIR", "")
	a, err := Start(context.Background(), Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatalf("Start with an unwritable TMPDIR: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// TestDefaultCaptureDirRemovedWhenEmpty: an agent that captured nothing
// leaves no directory behind.
func TestDefaultCaptureDirRemovedWhenEmpty(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	t.Setenv("XDG_RUNTIME_DIR", "")
	a, err := Start(context.Background(), Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(tmp)
	for _, e := range ents {
		if e.Name() != fmt.Sprintf("asyncmon-%d", os.Getuid()) { // the registry's directory
			t.Errorf("left %s behind", e.Name())
		}
	}
}

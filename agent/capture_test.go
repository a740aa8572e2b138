package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/findings"
	"github.com/asyncmon/asyncmon/model"
)

func newTestCapturer(t *testing.T, opts CaptureOptions) *capturer {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	c, err := newCapturer(opts, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func writeN(n int) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := w.Write(bytes.Repeat([]byte("x"), n))
		return err
	}
}

func files(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestCaptureBounds(t *testing.T) {
	tests := []struct {
		name      string
		opts      CaptureOptions
		saves     int
		size      int
		wantFiles int
	}{
		{name: "files", opts: CaptureOptions{MaxFiles: 3}, saves: 5, size: 100, wantFiles: 3},
		{name: "bytes", opts: CaptureOptions{MaxBytes: 2500}, saves: 5, size: 1000, wantFiles: 2},
		{name: "under both", opts: CaptureOptions{MaxFiles: 10, MaxBytes: 1 << 20}, saves: 4, size: 100, wantFiles: 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestCapturer(t, tc.opts)
			var ids []string
			for range tc.saves {
				cp, err := c.save("goroutine", "text", "f", writeN(tc.size))
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, cp.ID)
			}
			list := c.list()
			if len(list) != tc.wantFiles || len(files(t, c.opts.Dir)) != tc.wantFiles {
				t.Fatalf("kept %d captures, %d files; want %d", len(list), len(files(t, c.opts.Dir)), tc.wantFiles)
			}
			if list[0].ID != ids[len(ids)-1] {
				t.Errorf("newest capture %s, want %s (newest first)", list[0].ID, ids[len(ids)-1])
			}
			if _, _, err := c.open(ids[0]); tc.wantFiles < tc.saves && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("oldest capture still opens: %v", err)
			}
		})
	}
}

func TestCaptureWriteFailureLeavesNothing(t *testing.T) {
	c := newTestCapturer(t, CaptureOptions{})
	_, err := c.save("cpu", "pprof", "f", func(w io.Writer) error {
		w.Write([]byte("half"))
		return errors.New("profile failed")
	})
	if err == nil {
		t.Fatal("save reported success for a failed write")
	}
	if got := files(t, c.opts.Dir); len(got) != 0 {
		t.Fatalf("files left after a failed write: %v", got)
	}
	if len(c.list()) != 0 {
		t.Fatal("a failed capture is listed")
	}
}

func TestCaptureRateLimit(t *testing.T) {
	c := newTestCapturer(t, CaptureOptions{Every: time.Minute})
	now := time.Now()
	for i := range defaultCaptureBurst {
		if !c.allow("leak", now) {
			t.Fatalf("capture %d of the burst refused", i+1)
		}
	}
	if c.allow("leak", now.Add(time.Second)) {
		t.Fatal("capture beyond the burst allowed")
	}
	if !c.allow("starvation", now.Add(time.Second)) {
		t.Fatal("another detector's capture refused: the limit is per detector")
	}
	if !c.allow("leak", now.Add(61*time.Second)) {
		t.Fatal("capture refused after a full period")
	}
	if c.allow("leak", now.Add(62*time.Second)) {
		t.Fatal("second capture allowed one second after the refill")
	}
}

func TestCaptureIndexSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	foreign := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(foreign, []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := newTestCapturer(t, CaptureOptions{Dir: dir, MaxFiles: 2})
	for range 2 {
		if _, err := c.save("block", "pprof", "f", writeN(10)); err != nil {
			t.Fatal(err)
		}
	}
	c2 := newTestCapturer(t, CaptureOptions{Dir: dir, MaxFiles: 2})
	if got := len(c2.list()); got != 2 {
		t.Fatalf("restarted capturer indexes %d captures, want 2", got)
	}
	if cp := c2.list()[0]; cp.Kind != "block" || cp.Format != "pprof" {
		t.Errorf("reindexed capture %+v, want kind block, format pprof", cp)
	}
	if _, err := c2.save("mutex", "pprof", "f", writeN(10)); err != nil {
		t.Fatal(err)
	}
	if got := len(c2.list()); got != 2 {
		t.Fatalf("bounds not kept across restarts: %d captures", got)
	}
	if _, err := os.Stat(foreign); err != nil {
		t.Fatalf("a file asyncmon did not write was touched: %v", err)
	}
}

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
		Findings:  findings.Config{Rules: map[string]findings.Rule{"always": {For: -1}}},
		Capture:   CaptureOptions{Dir: t.TempDir(), Trace: true, TraceWindow: time.Second, CPUProfile: -1},
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

package capture

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func newTestCapturer(t *testing.T, opts Options) *Capturer {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	return New(opts, nil, nil)
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
		opts      Options
		saves     int
		size      int
		wantFiles int
	}{
		{name: "files", opts: Options{MaxFiles: 3}, saves: 5, size: 100, wantFiles: 3},
		{name: "bytes", opts: Options{MaxBytes: 2500}, saves: 5, size: 1000, wantFiles: 2},
		{name: "under both", opts: Options{MaxFiles: 10, MaxBytes: 1 << 20}, saves: 4, size: 100, wantFiles: 4},
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
			list := c.List()
			if len(list) != tc.wantFiles || len(files(t, c.opts.Dir)) != tc.wantFiles {
				t.Fatalf("kept %d captures, %d files; want %d", len(list), len(files(t, c.opts.Dir)), tc.wantFiles)
			}
			if list[0].ID != ids[len(ids)-1] {
				t.Errorf("newest capture %s, want %s (newest first)", list[0].ID, ids[len(ids)-1])
			}
			if _, _, err := c.Open(ids[0]); tc.wantFiles < tc.saves && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("oldest capture still opens: %v", err)
			}
		})
	}
}

func TestCaptureWriteFailureLeavesNothing(t *testing.T) {
	c := newTestCapturer(t, Options{})
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
	if len(c.List()) != 0 {
		t.Fatal("a failed capture is listed")
	}
}

func TestCaptureRateLimit(t *testing.T) {
	c := newTestCapturer(t, Options{Every: time.Minute})
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
	c := newTestCapturer(t, Options{Dir: dir, MaxFiles: 2})
	for range 2 {
		if _, err := c.save("block", "pprof", "f", writeN(10)); err != nil {
			t.Fatal(err)
		}
	}
	c2 := newTestCapturer(t, Options{Dir: dir, MaxFiles: 2})
	if got := len(c2.List()); got != 2 {
		t.Fatalf("restarted capturer indexes %d captures, want 2", got)
	}
	if cp := c2.List()[0]; cp.Kind != "block" || cp.Format != "pprof" {
		t.Errorf("reindexed capture %+v, want kind block, format pprof", cp)
	}
	if _, err := c2.save("mutex", "pprof", "f", writeN(10)); err != nil {
		t.Fatal(err)
	}
	if got := len(c2.List()); got != 2 {
		t.Fatalf("bounds not kept across restarts: %d captures", got)
	}
	if _, err := os.Stat(foreign); err != nil {
		t.Fatalf("a file asyncmon did not write was touched: %v", err)
	}
}

// TestUnwritableCaptureDirIsCounted: a capture directory that cannot be
// created (its parent is a file, so even root cannot) fails each capture
// cleanly, counted in Stats.
func TestUnwritableCaptureDirIsCounted(t *testing.T) {
	parent := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(parent, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c := newTestCapturer(t, Options{Dir: filepath.Join(parent, "captures")})
	for range 3 {
		if _, err := c.save("goroutine", "text", "f", writeN(10)); err == nil {
			t.Fatal("capture into an impossible directory succeeded")
		}
	}
	if n := c.Stats().Failed; n != 3 {
		t.Errorf("failed captures counted %d, want 3", n)
	}
}

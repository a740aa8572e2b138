// Package crashreport keeps the Go runtime's output of a fatal crash
// (runtime/debug.SetCrashOutput) in a directory of the program's own and
// reads it back at the next start as a [model.Crash]: the agent's crash
// reports (see agent.CrashOptions).
package crashreport

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/asyncmon/asyncmon/collectors/dump"
	"github.com/asyncmon/asyncmon/model"
)

const (
	// crashOutput is the file the runtime writes a crash to, in the
	// crash directory; at the next start a non-empty one is moved aside
	// as crash-<time>.txt and reported.
	crashOutput = "crash.out"
	// DefaultKeep bounds the crash reports kept per program.
	DefaultKeep = 5
	// MaxRead bounds how much of a report is read: the crash message
	// and the crashing goroutine come first.
	MaxRead = 4 << 20
	// maxCrashKept bounds a kept report on disk: with GOTRACEBACK=all a
	// crash prints every goroutine, hundreds of MiB at a million. The
	// head holds what is reported.
	maxCrashKept = 16 << 20
)

// Dir returns the directory for this executable's crash reports: dir
// when set, else $XDG_STATE_HOME/asyncmon/crash/<program>-<hash of the
// executable's path> (XDG_STATE_HOME defaults to ~/.local/state).
func Dir(dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	state := os.Getenv("XDG_STATE_HOME")
	if state == "" || !filepath.IsAbs(state) {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		state = filepath.Join(home, ".local", "state")
	}
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	if p, err := filepath.EvalSymlinks(exe); err == nil {
		exe = p
	}
	sum := sha256.Sum256([]byte(exe))
	return filepath.Join(state, "asyncmon", "crash", filepath.Base(exe)+"-"+hex.EncodeToString(sum[:4])), nil
}

// SetOutput points the runtime's crash output at a fresh file in dir.
func SetOutput(dir string) error {
	// O_APPEND without truncation: another process of the same
	// executable may hold the same file as its crash output; it is empty
	// unless that process crashed.
	f, err := os.OpenFile(filepath.Join(dir, crashOutput), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer f.Close() // SetCrashOutput keeps its own duplicate
	return debug.SetCrashOutput(f, debug.CrashOptions{})
}

// Take moves a non-empty crash output aside as a kept report (cut
// to 16 MiB), prunes the reports beyond keep, and returns the crash it
// holds.
func Take(dir string, keep int) (*model.Crash, error) {
	out := filepath.Join(dir, crashOutput)
	st, err := os.Stat(out)
	if errors.Is(err, os.ErrNotExist) || (err == nil && st.Size() == 0) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	kept := filepath.Join(dir, "crash-"+st.ModTime().UTC().Format("20060102T150405.000000000Z")+".txt")
	if err := os.Rename(out, kept); err != nil {
		return nil, err
	}
	if st.Size() > maxCrashKept {
		_ = os.Truncate(kept, maxCrashKept) // best effort: the bound is on disk use
	}
	pruneCrashes(dir, keep)
	f, err := os.Open(kept)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxRead))
	if err != nil {
		return nil, err
	}
	d, _ := dump.Parse(bytes.NewReader(b))
	c := dump.CompleteCrash(d, b)
	if c == nil {
		c = &model.Crash{Kind: dump.CrashFatal, Message: "unreadable crash report"}
	}
	c.Time = st.ModTime()
	c.Path = kept
	return c, nil
}

// pruneCrashes deletes the oldest kept reports beyond keep.
func pruneCrashes(dir string, keep int) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	var names []string
	for _, e := range ents {
		if n := e.Name(); strings.HasPrefix(n, "crash-") && strings.HasSuffix(n, ".txt") && !e.IsDir() {
			names = append(names, n)
		}
	}
	slices.Sort(names) // the time in the name sorts
	for _, n := range names[:max(0, len(names)-keep)] {
		os.Remove(filepath.Join(dir, n))
	}
}

// Collector puts the previous run's crash, if any, in every snapshot;
// the crash detector decides how long to report it.
type Collector struct {
	// Crash is the previous run's crash, nil if none.
	Crash *model.Crash
}

// Name returns "crash".
func (Collector) Name() string { return "crash" }

// Collect implements [model.Collector].
func (c Collector) Collect(_ context.Context, s *model.Snapshot) error {
	s.Crash = c.Crash
	return nil
}

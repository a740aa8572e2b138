package agent

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
	"github.com/asyncmon/asyncmon/detectors/failures"
	"github.com/asyncmon/asyncmon/model"
)

const (
	// crashOutput is the file the runtime writes a crash to, in the
	// crash directory; at the next start a non-empty one is moved aside
	// as crash-<time>.txt and reported.
	crashOutput = "crash.out"
	// defaultCrashKeep bounds the crash reports kept per program.
	defaultCrashKeep = 5
	// maxCrashRead bounds how much of a report is read: the crash message
	// and the crashing goroutine come first.
	maxCrashRead = 4 << 20
	// maxCrashKept bounds a kept report on disk: with GOTRACEBACK=all a
	// crash prints every goroutine, hundreds of MiB at a million. The
	// head holds what is reported.
	maxCrashKept = 16 << 20
)

// CrashOptions configures the keeping of crash reports (Options.NoCrash
// turns it off). The zero value keeps them, in the user's state
// directory.
//
// # How it works
//
// At Start the agent points the runtime's crash output
// ([runtime/debug.SetCrashOutput]) at a file of its own, so that the
// fatal output of a crash (an unrecovered panic, "concurrent map writes",
// "all goroutines are asleep", any runtime fatal error, a fatal signal
// in Go code) is written there as well as to standard error. At the next
// start of the same executable the agent finds the report, keeps it
// (bounded), logs it, saves it as a capture and reports a critical
// "crash" finding for an hour: what crashed, the panic value or fatal
// error, the goroutine, the user's file:line and when.
//
// # What cannot be caught
//
// Only what the Go runtime prints is kept. A process killed from outside
// (SIGKILL, the kernel's OOM killer, a container runtime's kill after its
// grace period), a power loss, or os.Exit leaves no report; nor does a
// crash in C code that kills the process before the runtime prints.
//
// # Process-wide
//
// The crash output is one per process and the runtime offers no way to
// read it, so the agent cannot tell whether the host set one. A program
// that sets its own must either set Options.NoCrash, or call
// debug.SetCrashOutput after agent.Start: the later call wins, and the
// agent's file then stays empty. Close leaves the crash output in place,
// so that a crash while the program shuts down (a panic that runs
// main's deferred Close) is still kept. With several agents in one
// process, the last one started holds it.
type CrashOptions struct {
	// Dir is the directory for this program's crash reports. Optional.
	// Default $XDG_STATE_HOME/asyncmon/crash/<program>-<hash of the
	// executable's path> (XDG_STATE_HOME defaults to ~/.local/state),
	// so that each executable has its own and a rebuilt binary at the
	// same path finds its predecessor's crash. Without a home directory
	// (and no Dir), crash reports are off.
	Dir string
	// Keep bounds the crash reports kept in Dir; the oldest go first.
	// Optional. Default 5. Negative is rejected.
	Keep int
}

// crashDir returns the directory for this executable's crash reports.
func crashDir(opts CrashOptions) (string, error) {
	if opts.Dir != "" {
		return opts.Dir, nil
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

// initCrash reads the report of a crash of an earlier run, if any, and
// points the runtime's crash output at a fresh file. Failures are logged:
// crash reports are a help, never a reason not to start.
func (a *Agent) initCrash(opts CrashOptions) {
	dir, err := crashDir(opts)
	if err == nil {
		err = os.MkdirAll(dir, 0o700)
	}
	if err != nil {
		a.log.Warn("crash reports off", "err", err)
		return
	}
	keep := opts.Keep
	if keep <= 0 {
		keep = defaultCrashKeep
	}
	c, err := takeCrash(dir, keep)
	if err != nil {
		a.log.Warn("previous crash report not read", "dir", dir, "err", err)
	}
	if c != nil {
		a.crash = c
		a.log.Error("the previous run crashed", "kind", c.Kind, "message", c.Message,
			"site", c.Site.Site(), "goroutine", c.GoroutineID, "time", c.Time, "report", c.Path)
	}
	// O_APPEND without truncation: another process of the same
	// executable may hold the same file as its crash output; it is empty
	// unless that process crashed.
	f, err := os.OpenFile(filepath.Join(dir, crashOutput), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		a.log.Warn("crash reports off", "err", err)
		return
	}
	defer f.Close() // SetCrashOutput keeps its own duplicate
	if err := debug.SetCrashOutput(f, debug.CrashOptions{}); err != nil {
		a.log.Warn("crash reports off", "err", err)
	}
}

// takeCrash moves a non-empty crash output aside as a kept report (cut
// to 16 MiB), prunes the reports beyond keep, and returns the crash it
// holds.
func takeCrash(dir string, keep int) (*model.Crash, error) {
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
	b, err := io.ReadAll(io.LimitReader(f, maxCrashRead))
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

// saveCrashCapture keeps the crash report among the captures, linked to
// its finding.
func (a *Agent) saveCrashCapture() {
	c := a.crash
	if c == nil || c.Path == "" || a.detection == nil || a.detection.capture == nil {
		return
	}
	f, err := os.Open(c.Path)
	if err != nil {
		a.log.Warn("crash report not captured", "err", err)
		return
	}
	defer f.Close()
	id := model.FindingID(failures.CrashName, failures.CrashSubject(c))
	cp, err := a.detection.capture.SaveText("crash", id, f, maxCrashRead)
	if err != nil {
		a.log.Warn("crash report not captured", "err", err)
		return
	}
	c.Capture = cp.ID
}

// crashCollector puts the previous run's crash, if any, in every
// snapshot; the crash detector decides how long to report it.
type crashCollector struct{ c *model.Crash }

func (crashCollector) Name() string { return "crash" }

func (cc crashCollector) Collect(_ context.Context, s *model.Snapshot) error {
	s.Crash = cc.c
	return nil
}

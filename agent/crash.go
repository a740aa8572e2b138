package agent

import (
	"os"

	"github.com/asyncmon/asyncmon/agent/internal/crashreport"
	"github.com/asyncmon/asyncmon/detectors/failures"
	"github.com/asyncmon/asyncmon/model"
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

// initCrash reads the report of a crash of an earlier run, if any, and
// points the runtime's crash output at a fresh file. Failures are logged:
// crash reports are a help, never a reason not to start.
func (a *Agent) initCrash(opts CrashOptions) {
	dir, err := crashreport.Dir(opts.Dir)
	if err == nil {
		err = os.MkdirAll(dir, 0o700)
	}
	if err != nil {
		a.log.Warn("crash reports off", "err", err)
		return
	}
	keep := opts.Keep
	if keep <= 0 {
		keep = crashreport.DefaultKeep
	}
	c, err := crashreport.Take(dir, keep)
	if err != nil {
		a.log.Warn("previous crash report not read", "dir", dir, "err", err)
	}
	if c != nil {
		a.crash = c
		a.log.Error("the previous run crashed", "kind", c.Kind, "message", c.Message,
			"site", c.Site.Site(), "goroutine", c.GoroutineID, "time", c.Time, "report", c.Path)
	}
	if err := crashreport.SetOutput(dir); err != nil {
		a.log.Warn("crash reports off", "err", err)
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
	cp, err := a.detection.capture.SaveText("crash", id, f, crashreport.MaxRead)
	if err != nil {
		a.log.Warn("crash report not captured", "err", err)
		return
	}
	c.Capture = cp.ID
}

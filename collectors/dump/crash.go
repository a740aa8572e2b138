package dump

import (
	"bytes"
	"slices"
	"strings"

	"github.com/asyncmon/asyncmon/model"
)

// Crash kinds, model.Crash.Kind.
const (
	CrashPanic  = "panic"       // an unrecovered panic
	CrashFatal  = "fatal error" // a runtime fatal error: concurrent map writes, deadlock, out of memory...
	CrashSignal = "signal"      // a fatal signal the runtime reported (SIGSEGV in C code, SIGABRT...)
	crashOther  = "fatal"       // the runtime's other "fatal: ..." messages
)

// maxCrashMessage bounds a crash message's text.
const maxCrashMessage = 500

// crashHeader is the crash message seen between goroutines.
type crashHeader struct {
	kind, message string
}

// crashLine notes the crash message in a line of text outside the
// goroutines: "panic: ...", "fatal error: ...", "fatal: ..." or a
// fatal signal line. For nested panics ("panic: a [recovered]" then
// "\tpanic: b") the last one is what crashed.
func (p *parser) crashLine(line []byte) {
	t := bytes.TrimLeft(line, "\t ")
	if p.prefix == nil {
		// Before the first goroutine a log prefix is not known yet:
		// take a marker after a space anywhere in the line.
		for _, m := range crashMarkers {
			if i := bytes.Index(line, m); i > 0 && (line[i-1] == ' ' || line[i-1] == '\t') {
				t = line[i:]
				break
			}
		}
	}
	var h crashHeader
	switch {
	case bytes.HasPrefix(t, []byte("panic: ")):
		msg := string(t[len("panic: "):])
		// Go 1.23+ marks a re-panicked value "[recovered, repanicked]";
		// older ones print the recovered panic first, then the new one.
		msg = strings.TrimSuffix(msg, " [recovered, repanicked]")
		if m, ok := strings.CutSuffix(msg, " [recovered]"); ok && p.crash != nil && p.crash.kind == CrashPanic {
			return // a recovered panic followed by the one that crashed
		} else if ok {
			msg = m
		}
		h = crashHeader{CrashPanic, msg}
	case bytes.HasPrefix(t, []byte("fatal error: ")):
		h = crashHeader{CrashFatal, string(t[len("fatal error: "):])}
	case bytes.HasPrefix(t, []byte("fatal: ")):
		h = crashHeader{crashOther, string(t[len("fatal: "):])}
	case bytes.HasPrefix(t, []byte("SIG")) && !bytes.HasPrefix(t, []byte("SIGQUIT")) && bytes.Contains(t, []byte(": ")):
		// "SIGSEGV: segmentation violation": after a panic or fatal
		// error it only adds detail.
		if p.crash != nil {
			return
		}
		h = crashHeader{CrashSignal, string(t)}
	default:
		return
	}
	if p.crash != nil && p.crash.kind == CrashFatal && h.kind != CrashFatal {
		return // a fatal error's own detail lines
	}
	if len(h.message) > maxCrashMessage {
		h.message = h.message[:maxCrashMessage]
	}
	p.crash = &h
}

// crashMarkers start the lines of a crash message.
var crashMarkers = [][]byte{[]byte("panic: "), []byte("fatal error: "), []byte("fatal: ")}

// crashReport builds the crash of a parsed traceback: the message seen
// outside the goroutines, and the first goroutine printed, which is the
// one that panicked or hit the fatal error.
func (p *parser) crashReport() *model.Crash {
	if p.dump.Format != FormatTraceback {
		return nil
	}
	h := p.crash
	if h == nil && len(p.dump.Goroutines) > 0 {
		// The runtime writes a fatal error's message before it marks
		// itself dying, so a copy sent to debug.SetCrashOutput lacks
		// it; the stack of the goroutine that hit it names it.
		if msg, ok := fatalFromFrames(p.dump.Goroutines[0].Frames); ok {
			h = &crashHeader{CrashFatal, msg}
		}
	}
	if h == nil {
		return nil
	}
	c := &model.Crash{Kind: h.kind, Message: h.message, Goroutines: len(p.dump.Goroutines)}
	if len(p.dump.Goroutines) == 0 {
		return c
	}
	g := p.dump.Goroutines[0]
	if strings.HasPrefix(c.Message, "all goroutines are asleep") {
		// Every goroutine waits; the first running the user's code
		// says most about what waits for what.
		for _, o := range p.dump.Goroutines {
			if slices.ContainsFunc(o.Frames, model.Frame.IsUser) {
				g = o
				break
			}
		}
	}
	c.GoroutineID = g.ID
	c.Stack = g.Frames
	c.Site = CrashSite(g.Frames)
	return c
}

// FatalUnknown is the message of a crash report that is a fatal error
// whose message the report does not hold.
const FatalUnknown = "fatal error (the runtime printed its message on standard error only)"

// fatalFromFrames names the runtime fatal error a goroutine's stack is
// in, from the functions that raise them: sync's unlock checks, the map
// access checks, and a bare runtime.throw or runtime.fatal.
func fatalFromFrames(frames []model.Frame) (string, bool) {
	if len(frames) == 0 {
		return "", false
	}
	top := frames[0].Func
	has := func(parts ...string) bool {
		for _, f := range frames[:min(len(frames), 6)] {
			for _, p := range parts {
				if strings.Contains(f.Func, p) {
					return true
				}
			}
		}
		return false
	}
	switch {
	case strings.HasSuffix(top, "sync.fatal") || strings.HasSuffix(top, "sync.throw"):
		switch {
		case has("RUnlock", "rUnlockSlow"):
			return "sync: RUnlock of unlocked RWMutex", true
		case has("RWMutex).Unlock"):
			return "sync: Unlock of unlocked RWMutex", true
		case has("Unlock", "unlockSlow"):
			return "sync: unlock of unlocked mutex", true
		}
		return "", false
	case top == "internal/runtime/maps.fatal" || top == "runtime.fatal" || top == "runtime.throw":
		switch {
		case has("mapassign", "mapdelete", "mapclear", "putSlot", ").Put", ").Delete", ").Clear"):
			return "concurrent map writes", true
		case has("mapiter", "Iter).Next"):
			return "concurrent map iteration and map write", true
		case has("mapaccess", ").Get"):
			return "concurrent map read and map write", true
		}
		return FatalUnknown, true
	}
	return "", false
}

// CompleteCrash fills in the crash of a dump known to be a crash's
// output (the runtime's crash output file), when the text alone did not
// say which: a SIGQUIT, all goroutines asleep (none running), or a fatal
// error whose message went to standard error only.
func CompleteCrash(d *Dump, text []byte) *model.Crash {
	if d == nil || d.Format != FormatTraceback {
		return nil
	}
	if d.Crash != nil {
		return d.Crash
	}
	c := &model.Crash{Kind: CrashFatal, Message: FatalUnknown, Goroutines: len(d.Goroutines)}
	running := slices.ContainsFunc(d.Goroutines, func(g model.Goroutine) bool { return g.State == "running" })
	switch {
	case bytes.Contains(text, []byte("SIGQUIT: quit")):
		c.Kind, c.Message = CrashSignal, "SIGQUIT: quit"
	case !running && len(d.Goroutines) > 0:
		c.Message = "all goroutines are asleep - deadlock!"
	}
	if len(d.Goroutines) > 0 {
		g := d.Goroutines[0]
		if c.Message == "all goroutines are asleep - deadlock!" {
			for _, o := range d.Goroutines {
				if slices.ContainsFunc(o.Frames, model.Frame.IsUser) {
					g = o
					break
				}
			}
		}
		c.GoroutineID, c.Stack, c.Site = g.ID, g.Frames, CrashSite(g.Frames)
	}
	return c
}

// CrashSite returns the frame of a crashing goroutine's stack to blame:
// below the first panic call (a deferred function that recovered and
// panicked again sits above it, the original panic below), the
// innermost frame of the user's code (model.IsUserFunc), else of any
// module, else the innermost outside the runtime and testing, else the
// innermost.
func CrashSite(frames []model.Frame) model.Frame {
	all := frames
	for i := len(frames) - 1; i >= 0; i-- {
		if frames[i].Func == "panic" || frames[i].Func == "runtime.gopanic" {
			frames = frames[i+1:]
			break
		}
	}
	for _, f := range frames {
		if f.IsUser() {
			return f
		}
	}
	// No user frame: asyncmon's own code (its tests) or the standard
	// library alone. A module's frame (a dot in its first path element),
	// else any frame outside the runtime and testing.
	for _, f := range frames {
		if root, _, _ := strings.Cut(f.Func, "/"); strings.Contains(root, ".") && strings.Contains(f.Func, "/") {
			return f
		}
	}
	for _, f := range frames {
		if !strings.HasPrefix(f.Func, "runtime.") && !strings.HasPrefix(f.Func, "internal/") && !strings.HasPrefix(f.Func, "testing.") {
			return f
		}
	}
	if len(all) > 0 {
		return all[0]
	}
	return model.Frame{}
}

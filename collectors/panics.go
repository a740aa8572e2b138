package collectors

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/model"
)

const (
	// maxPanicSites bounds the panic sites kept; the least recent goes
	// first. A service panics at a handful of places, if any.
	maxPanicSites = 64
	// maxPanicValue bounds a recorded panic value's text.
	maxPanicValue = 200
	// maxPanicFrames bounds a recorded panicking stack.
	maxPanicFrames = 32
)

// Panics records panics where they happen: in HTTP handlers, through
// [Requests.Middleware], and in goroutines whose function defers
// [Panics.RecordAndRepanic]. It counts them by the user's frame that
// panicked and reports them in Snapshot.Panics. Recording never swallows
// a panic: the value is panicked again, so the program behaves exactly as
// it would without asyncmon.
//
// All methods are safe for concurrent use, on a nil *Panics too (which
// records nothing).
type Panics struct {
	mu    sync.Mutex // guards sites
	sites map[panicKey]*model.PanicSite
}

type panicKey struct {
	kind string
	site model.Frame
}

// NewPanics returns an empty panic recorder.
func NewPanics() *Panics {
	return &Panics{sites: make(map[panicKey]*model.PanicSite)}
}

// Name implements model.Collector.
func (p *Panics) Name() string { return "panics" }

// Collect implements model.Collector: it fills s.Panics, most recent
// first.
func (p *Panics) Collect(_ context.Context, s *model.Snapshot) error {
	p.mu.Lock()
	if len(p.sites) == 0 {
		p.mu.Unlock()
		return nil
	}
	s.Panics = make([]model.PanicSite, 0, len(p.sites))
	for _, ps := range p.sites {
		s.Panics = append(s.Panics, *ps) // Stack is replaced, never changed in place
	}
	p.mu.Unlock()
	slices.SortFunc(s.Panics, func(a, b model.PanicSite) int {
		return cmp.Or(b.Last.Compare(a.Last), cmp.Compare(a.Site.Site(), b.Site.Site()))
	})
	return nil
}

// RecordAndRepanic, deferred at the top of a goroutine's function,
// records a panic of that goroutine and panics again with the same value:
//
//	go func() {
//		defer panics.RecordAndRepanic()
//		...
//	}()
//
// The process then crashes as it would have (and the agent's crash
// output keeps the report); the count of the site survives in the
// metrics until then, and in every snapshot of a panic that something
// further up recovers. It must be deferred directly, not called from
// another deferred function: recover only works there.
func (p *Panics) RecordAndRepanic() {
	v := recover()
	if v == nil {
		return
	}
	p.record(model.PanicGoroutine, v, "")
	panic(v)
}

// Record counts a goroutine panic of value v. Call it only from a
// deferred function that recovered v, before panicking again: the
// panicking frames are read from the calling goroutine's stack.
func (p *Panics) Record(v any) { p.record(model.PanicGoroutine, v, "") }

// recoverHandler is the middleware's deferred call: it records a handler
// panic and panics again so that net/http handles it as before.
// http.ErrAbortHandler is the documented way to abort a response, not a
// bug: it is passed on without being counted.
func (p *Panics) recoverHandler(req *http.Request) {
	v := recover()
	if v == nil {
		return
	}
	if v != http.ErrAbortHandler { //nolint:errorlint // net/http compares it the same way
		route := req.Pattern
		if route == "" {
			route = req.Method + " " + req.URL.Path
		}
		p.record(model.PanicHandler, v, truncate(route, maxRequestPath))
	}
	panic(v)
}

// record counts one panic of value v, called from the deferred function
// that recovered it: the panicking frames are still on the stack.
func (p *Panics) record(kind string, v any, route string) {
	if p == nil {
		return
	}
	site, stack := panicStack()
	now := time.Now()
	value := truncate(fmt.Sprint(v), maxPanicValue)
	k := panicKey{kind: kind, site: site}
	p.mu.Lock()
	defer p.mu.Unlock()
	ps := p.sites[k]
	if ps == nil {
		if len(p.sites) >= maxPanicSites {
			p.evictLocked()
		}
		ps = &model.PanicSite{Kind: kind, Site: site}
		p.sites[k] = ps
	}
	ps.Count++
	ps.Last = now
	ps.Value = value
	ps.Route = route
	ps.Stack = stack
}

func (p *Panics) evictLocked() {
	var oldest panicKey
	var at time.Time
	first := true
	for k, ps := range p.sites {
		if first || ps.Last.Before(at) {
			oldest, at, first = k, ps.Last, false
		}
	}
	delete(p.sites, oldest)
}

// panicStack returns the panicking goroutine's frames below the runtime's
// panic machinery, and the first of them in the user's code (model.IsUserFunc),
// or else the first outside the runtime.
func panicStack() (model.Frame, []model.Frame) {
	var pcs [64]uintptr
	n := runtime.Callers(1, pcs[:])
	frames := runtime.CallersFrames(pcs[:n])
	var stack []model.Frame
	var site model.Frame
	seenPanic := false
	for {
		f, more := frames.Next()
		switch {
		case !seenPanic:
			// Everything above runtime.gopanic is the recovering side:
			// this package and the deferred call.
			seenPanic = f.Function == "runtime.gopanic"
		case len(stack) < maxPanicFrames:
			mf := model.Frame{Func: f.Function, File: f.File, Line: f.Line}
			stack = append(stack, mf)
			if site.IsZero() && model.IsUserFunc(f.Function) {
				site = mf
			}
		}
		if !more {
			break
		}
	}
	// No user frame (asyncmon's own code panicked, or the runtime alone):
	// the first frame outside the runtime.
	for _, f := range stack {
		if site.IsZero() && !strings.HasPrefix(f.Func, "runtime.") && !strings.HasPrefix(f.Func, "internal/") {
			site = f
		}
	}
	if site.IsZero() && len(stack) > 0 {
		site = stack[0]
	}
	return site, stack
}

// truncate cuts s to at most n bytes.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

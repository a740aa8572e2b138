package api

import (
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/pprof"
	runtimepprof "runtime/pprof"
	"runtime/trace"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/agent/internal/limits"
)

// Expensive requests
//
// Profiles, traces, full goroutine dumps and capture downloads cost CPU,
// memory or a stop of the world. Every one is validated before any work,
// its duration is capped at maxProfileSeconds, at most
// Config.MaxExpensive run at once (429 with Retry-After past it), and the
// dumps that stop the world are rate limited per client and overall.

const (
	// defaultMaxExpensive is Config.MaxExpensive's default: two, so a
	// CPU profile and a dump may run side by side, and a third waits.
	defaultMaxExpensive = 2
	// maxProfileSeconds caps the seconds of CPU profiles, traces, fgprof
	// and delta profiles: long enough to see a problem, short enough
	// that a forgotten request does not sample for hours.
	maxProfileSeconds = 60
	// expensiveRetry is the Retry-After given when MaxExpensive are busy.
	expensiveRetry = 5 * time.Second
	// deadlineSlack is what a streaming response's write deadline adds
	// to its duration, for the last write.
	deadlineSlack = 10 * time.Second
	// Stop-the-world dumps: one per client per dumpPerClient, and
	// overall a burst of dumpBurst refilled at one per dumpEvery.
	dumpPerClient = time.Minute
	dumpBurst     = 3
	dumpEvery     = 20 * time.Second
	// maxDumpClients bounds the per-client dump table.
	maxDumpClients = 1024
)

// endpointsOff records the endpoint families switched off.
type endpointsOff struct {
	pprof, trace, captures bool
}

// guard bounds the expensive requests.
type guard struct {
	sem chan struct{} // one slot per expensive request in flight
	cnt *limits.Counters

	mu      sync.Mutex // guards the fields below
	tokens  float64    // overall dump allowance
	last    time.Time  // when tokens was last refilled
	clients map[string]time.Time
}

func newGuard(limit int, cnt *limits.Counters) *guard {
	if limit <= 0 {
		limit = defaultMaxExpensive
	}
	return &guard{sem: make(chan struct{}, limit), cnt: cnt, tokens: dumpBurst, clients: map[string]time.Time{}}
}

// acquire takes a slot for an expensive request, or answers 429 and
// returns false.
func (g *guard) acquire(w http.ResponseWriter) bool {
	select {
	case g.sem <- struct{}{}:
		return true
	default:
		g.cnt.Hit(limits.Expensive)
		tooMany(w, expensiveRetry, fmt.Sprintf("too many profile, trace, dump or capture requests at once (limit %d)", cap(g.sem)))
		return false
	}
}

func (g *guard) release() { <-g.sem }

// allowDump takes one stop-the-world dump from client's allowance and the
// overall one, or returns how long to wait.
func (g *guard) allowDump(client string, now time.Time) (bool, time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if last, ok := g.clients[client]; ok && now.Sub(last) < dumpPerClient {
		return false, dumpPerClient - now.Sub(last)
	}
	g.tokens = min(dumpBurst, g.tokens+now.Sub(g.last).Seconds()/dumpEvery.Seconds())
	g.last = now
	if g.tokens < 1 {
		return false, time.Duration((1 - g.tokens) * float64(dumpEvery))
	}
	if len(g.clients) >= maxDumpClients {
		for c, t := range g.clients {
			if now.Sub(t) >= dumpPerClient {
				delete(g.clients, c)
			}
		}
		if len(g.clients) >= maxDumpClients {
			return false, dumpPerClient
		}
	}
	g.tokens--
	g.clients[client] = now
	return true, 0
}

// clientKey names the client a request comes from, for per-client
// limits: its IP address, or "local" on a Unix socket.
func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil || host == "" {
		return "local"
	}
	return host
}

// tooMany answers 429 with a Retry-After of at least a second.
func tooMany(w http.ResponseWriter, after time.Duration, msg string) {
	secs := max(1, int(math.Ceil(after.Seconds())))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeError(w, http.StatusTooManyRequests, fmt.Sprintf("%s; retry in %ds", msg, secs))
}

// dumpAllowed applies the stop-the-world rate limit to r, answering 429
// when it is spent.
func (a *API) dumpAllowed(w http.ResponseWriter, r *http.Request) bool {
	ok, wait := a.guard.allowDump(clientKey(r), time.Now())
	if !ok {
		a.cnt.Hit(limits.DumpRate)
		tooMany(w, wait, fmt.Sprintf("a full goroutine dump stops the world: one per client per %s, %d per minute in all", dumpPerClient, int(time.Minute/dumpEvery)))
	}
	return ok
}

// parseSeconds reads ?seconds= as a duration from 1 s (fractions allowed
// where fraction is true) to maxProfileSeconds; def when absent.
func parseSeconds(r *http.Request, def float64, fraction bool) (time.Duration, error) {
	v := r.URL.Query().Get("seconds")
	if v == "" {
		return time.Duration(def * float64(time.Second)), nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if !fraction {
		var n int64
		n, err = strconv.ParseInt(v, 10, 64)
		f = float64(n)
	}
	if err != nil || !(f > 0) || f > maxProfileSeconds || (!fraction && f < 1) {
		return 0, fmt.Errorf("seconds: want a number from 1 to %d, got %q", maxProfileSeconds, v)
	}
	return time.Duration(f * float64(time.Second)), nil
}

// extendDeadline gives a long response d plus slack to finish. It also
// lifts the server's ReadTimeout for this request: the request is read,
// and an expired read deadline would cancel its context mid-response.
func extendDeadline(w http.ResponseWriter, d time.Duration) {
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Now().Add(d + deadlineSlack))
}

// handleProfile serves a CPU profile of ?seconds=N (default 30, 1 to
// maxProfileSeconds). Only one CPU profile runs in a process: when
// another one is running (an evidence capture, or a profile started by
// the host) it answers 503.
func (a *API) handleProfile(w http.ResponseWriter, r *http.Request) {
	a.serveRecording(w, r, recording{
		file: "profile", defaultSeconds: 30,
		start: runtimepprof.StartCPUProfile, stop: runtimepprof.StopCPUProfile,
		busy: "another CPU profile is running in this process: ",
	})
}

// handleTrace serves an execution trace of ?seconds=N (default 1,
// fractions allowed, at most maxProfileSeconds). When another trace is
// running it answers 503.
func (a *API) handleTrace(w http.ResponseWriter, r *http.Request) {
	a.serveRecording(w, r, recording{
		file: "trace", defaultSeconds: 1, fractions: true,
		start: trace.Start, stop: trace.Stop,
		busy: "another execution trace is running in this process: ",
	})
}

// recording is a process-wide recorder that streams to the response for
// ?seconds=N: the CPU profiler or the execution tracer.
type recording struct {
	file           string // the attachment's file name
	defaultSeconds float64
	fractions      bool // whether seconds may be fractional
	start          func(io.Writer) error
	stop           func()
	busy           string // the 503 message's start, when start fails
}

// serveRecording validates ?seconds before any work, takes a slot of the
// expensive-request guard, and records for that long, or less when the
// client leaves or the agent closes.
func (a *API) serveRecording(w http.ResponseWriter, r *http.Request, rec recording) {
	if err := checkParams(r, "seconds"); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	d, err := parseSeconds(r, rec.defaultSeconds, rec.fractions)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if !a.guard.acquire(w) {
		return
	}
	defer a.guard.release()
	extendDeadline(w, d)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+rec.file+`"`)
	if err := rec.start(w); err != nil {
		w.Header().Del("Content-Disposition")
		w.Header().Set("Retry-After", "10")
		writeError(w, http.StatusServiceUnavailable, rec.busy+err.Error())
		return
	}
	a.wait(r, d)
	rec.stop()
}

// wait waits d, or less when the client leaves or the agent closes.
func (a *API) wait(r *http.Request, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	case <-a.done:
	}
}

// handlePprof serves net/http/pprof's index and its named profiles
// (/debug/pprof/heap, goroutine, block, …), after validating debug, gc
// and seconds: a delta profile (?seconds=N) is capped like the CPU
// profile, and a goroutine dump with debug=2, which stops the world, is
// rate limited like ?full=1.
func (a *API) handlePprof(w http.ResponseWriter, r *http.Request) {
	if msg := a.off.why(r.URL.Path); msg != "" { // /debug/pprof/trace under NoTrace
		writeError(w, http.StatusNotFound, msg)
		return
	}
	name := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	if name == "" {
		if err := checkParams(r); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		pprof.Index(w, r)
		return
	}
	if err := checkParams(r, "debug", "gc", "seconds"); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	q := r.URL.Query()
	debug := 0
	if v := q.Get("debug"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 2 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("debug: want 0, 1 or 2, got %q", v))
			return
		}
		debug = n
	}
	if v := q.Get("gc"); v != "" && v != "0" && v != "1" {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("gc: want 0 or 1, got %q", v))
		return
	}
	if q.Get("seconds") != "" {
		d, err := parseSeconds(r, 0, false)
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		if debug != 0 {
			writeError(w, http.StatusBadRequest, "seconds and debug cannot be combined: a delta profile is binary")
			return
		}
		switch name {
		case "allocs", "block", "goroutine", "heap", "mutex", "threadcreate":
		default:
			writeError(w, http.StatusBadRequest, fmt.Sprintf("seconds: profile %q has no delta form", name))
			return
		}
		extendDeadline(w, d)
	}
	if runtimepprof.Lookup(name) == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no profile %q", name))
		return
	}
	if !a.guard.acquire(w) {
		return
	}
	defer a.guard.release()
	if name == "goroutine" && debug >= 2 {
		if !a.dumpAllowed(w, r) {
			return
		}
		a.cnt.Dumped()
	}
	pprof.Index(w, r)
}

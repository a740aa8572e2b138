// Package api is the agent's HTTP API: the endpoints, the access checks
// in front of them (bearer token, Unix socket peers, bounded bodies) and
// the bounds on expensive requests (profiles, traces, stop-the-world
// dumps). Package agent builds it with New from a Config that hands in
// what it serves (the snapshot history, the stream, the findings, the
// captures) and serves [API.Handler]; this package never imports agent.
// docs/api.md documents the endpoints, docs/security.md the access
// checks.
package api

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/asyncmon/asyncmon/agent/internal/limits"
	"github.com/asyncmon/asyncmon/collectors/goroutines"
	"github.com/asyncmon/asyncmon/internal/broker"
	"github.com/asyncmon/asyncmon/model"
	"github.com/felixge/fgprof"
)

// Source is the agent as the API reads it: its snapshot history and its
// findings.
type Source interface {
	// Latest returns the newest snapshot, nil before the first one.
	Latest() *model.Snapshot
	// Window returns the snapshots of the last d, all of them for d <= 0.
	Window(d time.Duration) model.Window
	// Findings returns the findings, active ones first.
	Findings() []model.Finding
}

// Captures is evidence capture as the API serves it: the captures taken
// and a capture's file.
type Captures interface {
	List() []model.Capture
	Open(id string) (model.Capture, *os.File, error)
}

// Config is what the API serves and how. Source, Metrics, Stream,
// Collections, Counters and Done are required.
type Config struct {
	Source Source
	// Metrics serves /metrics.
	Metrics http.Handler
	// Stream publishes a snapshot per collection, for /api/v1/stream;
	// made with MaxSubscribers.
	Stream *broker.Broker[*model.Snapshot]
	// Collections returns how many collections ran, for /healthz.
	Collections func() uint64
	// Goroutines takes the full dumps of /api/v1/goroutines?full=1; nil
	// for none.
	Goroutines *goroutines.Collector
	// Detectors returns the names of the detectors running, to validate
	// /api/v1/findings?detector=; nil when no detection runs.
	Detectors func() []string
	// Captures lists and opens the evidence captures; nil when capture
	// is off.
	Captures Captures
	// Counters counts the bounds hit and the requests denied.
	Counters *limits.Counters
	// Log receives the API's own logs; never nil.
	Log *slog.Logger
	// Token is the bearer token every endpoint but /healthz wants; nil
	// for none.
	Token []byte
	// MaxExpensive bounds the expensive requests served at once; 0 for
	// the default, 2.
	MaxExpensive int
	// NoPprof, NoTrace and NoCaptureEndpoints switch endpoint families
	// off, as the agent's Options of the same names.
	NoPprof, NoTrace, NoCaptureEndpoints bool
	// WriteTimeout is the server's write timeout, which a capture
	// download extends.
	WriteTimeout time.Duration
	// Done is closed when the agent closes: it ends streams and
	// recordings in flight.
	Done <-chan struct{}
}

// API serves the agent's HTTP API. Its methods are safe for concurrent
// use.
type API struct {
	src          Source
	metrics      http.Handler
	stream       *broker.Broker[*model.Snapshot]
	collections  func() uint64
	goroutines   *goroutines.Collector
	detectors    func() []string
	captures     Captures
	cnt          *limits.Counters
	log          *slog.Logger
	token        []byte
	off          endpointsOff
	writeTimeout time.Duration
	done         <-chan struct{}
	// snapJSON is the snapshots' JSON, encoded once for every reader.
	snapJSON snapJSON
	// guard bounds the expensive requests (guard.go).
	guard *guard
	// handler is the endpoints behind the access checks.
	handler http.Handler
}

// New builds the API from cfg.
func New(cfg Config) *API {
	a := &API{
		src:          cfg.Source,
		metrics:      cfg.Metrics,
		stream:       cfg.Stream,
		collections:  cfg.Collections,
		goroutines:   cfg.Goroutines,
		detectors:    cfg.Detectors,
		captures:     cfg.Captures,
		cnt:          cfg.Counters,
		log:          cfg.Log,
		token:        cfg.Token,
		off:          endpointsOff{pprof: cfg.NoPprof, trace: cfg.NoTrace, captures: cfg.NoCaptureEndpoints},
		writeTimeout: cfg.WriteTimeout,
		done:         cfg.Done,
		guard:        newGuard(cfg.MaxExpensive, cfg.Counters),
	}
	a.handler = a.routes()
	return a
}

// Handler returns the API: every endpoint behind the access checks.
func (a *API) Handler() http.Handler { return a.handler }

// Route is one endpoint of the API: a ServeMux pattern and its handler.
type Route struct {
	Pattern string
	Handler http.Handler
}

// Busy returns how many expensive requests are in flight.
func (a *API) Busy() int { return len(a.guard.sem) }

// Endpoints lists the API's endpoints, without those switched off.
// Handler mounts exactly these, so the access tests that walk this list
// cover every endpoint there is.
func (a *API) Endpoints() []Route {
	hf := func(pattern string, h http.HandlerFunc) Route { return Route{pattern, h} }
	rs := []Route{
		{"GET /metrics", a.metrics},
		hf("GET /healthz", a.handleHealthz),
		hf("GET /api/v1/snapshot", a.handleSnapshot),
		hf("GET /api/v1/history", a.handleHistory),
		hf("GET /api/v1/stream", a.handleStream),
		hf("GET /api/v1/goroutines", a.handleGoroutines),
		hf("GET /api/v1/findings", a.handleFindings),
		hf("GET /api/v1/connections", a.handleConnections),
	}
	if !a.off.captures {
		rs = append(rs,
			hf("GET /api/v1/captures", a.handleCaptures),
			hf("GET /api/v1/captures/{id}", a.handleCapture))
	}
	if !a.off.pprof {
		rs = append(rs,
			hf("GET /debug/pprof/", a.handlePprof),
			hf("GET /debug/pprof/cmdline", pprof.Cmdline),
			hf("GET /debug/pprof/profile", a.handleProfile),
			hf("GET /debug/pprof/symbol", pprof.Symbol),
			hf("POST /debug/pprof/symbol", pprof.Symbol),
			hf("GET /debug/fgprof", a.handleFgprof))
		if !a.off.trace {
			rs = append(rs, hf("GET /debug/pprof/trace", a.handleTrace))
		}
	}
	return rs
}

// routes builds the API: the endpoints behind the access checks. Every
// endpoint is GET-only (but pprof's symbol lookup); the catch-all answers
// unknown paths with a JSON 404.
func (a *API) routes() http.Handler {
	mux := http.NewServeMux()
	for _, r := range a.Endpoints() {
		mux.Handle(r.Pattern, r.Handler)
	}

	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed: the API is read-only (GET)", r.Method))
			return
		}
		if msg := a.off.why(r.URL.Path); msg != "" {
			writeError(w, http.StatusNotFound, msg)
			return
		}
		writeError(w, http.StatusNotFound, fmt.Sprintf("no such endpoint: %s %s", r.Method, r.URL.Path))
	})
	return a.authorize(mux)
}

// why says which option switched off the endpoint at path, "" if none.
func (o endpointsOff) why(path string) string {
	switch {
	case o.captures && strings.HasPrefix(path, "/api/v1/captures"):
		return "the captures endpoints are switched off in this agent (Options.NoCaptureEndpoints)"
	case o.pprof && (strings.HasPrefix(path, "/debug/pprof/") || path == "/debug/fgprof"):
		return "the profiling endpoints are switched off in this agent (Options.NoPprof)"
	case o.trace && path == "/debug/pprof/trace":
		return "the execution trace endpoint is switched off in this agent (Options.NoTrace)"
	}
	return ""
}

// handleFgprof serves a wall-clock (on- and off-CPU) profile for
// ?seconds=N (default 30, at most maxProfileSeconds), in ?format=pprof (default) or
// folded. Unlike fgprof's own handler it stops when the client goes away
// or the agent closes, so an abandoned request does not keep sampling.
func (a *API) handleFgprof(w http.ResponseWriter, r *http.Request) {
	if err := checkParams(r, "seconds", "format"); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	q := r.URL.Query()
	d, err := parseSeconds(r, 30, false)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	format := fgprof.FormatPprof
	switch v := q.Get("format"); v {
	case "", "pprof":
	case "folded":
		format = fgprof.FormatFolded
	default:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("format: want pprof or folded, got %q", v))
		return
	}
	if !a.guard.acquire(w) {
		return
	}
	defer a.guard.release()
	extendDeadline(w, d)
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="fgprof"`)
	stop := fgprof.Start(w, format)
	a.wait(r, d)
	if err := stop(); err != nil {
		a.log.Debug("fgprof failed", "err", err)
	}
}

// apiError is the JSON body of every error response.
type apiError struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, apiError{Error: msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // a JSON API: "<token>" reads as it is
	_ = enc.Encode(v)        // the client went away; nothing to tell
}

func (a *API) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"status":      "ok",
		"collections": a.collections(),
	})
}

func (a *API) handleSnapshot(w http.ResponseWriter, r *http.Request) {
	if err := checkParams(r); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	s := a.src.Latest()
	if s == nil {
		writeJSON(w, http.StatusOK, s)
		return
	}
	data, err := a.snapJSON.encode(s)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "encode the snapshot: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(data); err == nil {
		_, _ = io.WriteString(w, "\n")
	}
}

// handleHistory serves the snapshots since a point in time, oldest first.
//
//	since  RFC 3339 time, or a Go duration meaning "that long ago" (30s, 5m).
//	       Optional: all of the history.
//	limit  keep only the newest N snapshots. Optional.
func (a *API) handleHistory(w http.ResponseWriter, r *http.Request) {
	if err := checkParams(r, "since", "limit"); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	q := r.URL.Query()
	var since time.Time
	if v := q.Get("since"); v != "" {
		t, err := parseSince(v, time.Now())
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		since = t
	}
	limit, err := limitParam(q)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	snaps := a.src.Window(0).Since(since).Snapshots
	if limit > 0 && len(snaps) > limit {
		snaps = snaps[len(snaps)-limit:]
	}
	a.writeSnapshots(w, snaps)
}

// writeSnapshots writes a JSON array of snapshots one element at a time:
// ten minutes of history can be tens of megabytes, which must not be built
// in one buffer.
func (a *API) writeSnapshots(w http.ResponseWriter, snaps []*model.Snapshot) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if _, err := io.WriteString(w, "["); err != nil {
		return
	}
	for i, s := range snaps {
		if i > 0 {
			if _, err := io.WriteString(w, ",\n"); err != nil {
				return // the client went away
			}
		}
		data, err := a.snapJSON.encode(s)
		if err != nil {
			return
		}
		if _, err := w.Write(data); err != nil {
			return
		}
	}
	_, _ = io.WriteString(w, "]\n")
}

// parseSince reads an RFC 3339 time or a positive duration before now.
func parseSince(v string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("since: want an RFC 3339 time (2006-01-02T15:04:05Z) or a duration (30s, 5m), got %q", v)
}

// limitParam reads the limit parameter: a positive integer, 0 when absent.
func limitParam(q url.Values) (int, error) {
	v := q.Get("limit")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("limit: want a positive integer, got %q", v)
	}
	return n, nil
}

// checkParams rejects query parameters the endpoint does not know, so a
// typo gets an error instead of a silently ignored filter.
func checkParams(r *http.Request, known ...string) error {
	for k := range r.URL.Query() {
		ok := false
		for _, kk := range known {
			ok = ok || k == kk
		}
		if !ok {
			return fmt.Errorf("unknown query parameter %q (known: %v)", k, known)
		}
	}
	return nil
}

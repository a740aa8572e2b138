package agent

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/pprof"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/asyncmon/asyncmon/model"
	"github.com/felixge/fgprof"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// route is one endpoint of the API: a ServeMux pattern and its handler.
type route struct {
	pattern string
	handler http.Handler
}

// endpoints lists the API's endpoints, without those Options switched
// off. routes mounts exactly these, so the access tests that walk this
// list cover every endpoint there is.
func (a *Agent) endpoints() []route {
	hf := func(pattern string, h http.HandlerFunc) route { return route{pattern, h} }
	rs := []route{
		{"GET /metrics", promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{
			ErrorHandling: promhttp.ContinueOnError,
		})},
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
func (a *Agent) routes() http.Handler {
	mux := http.NewServeMux()
	for _, r := range a.endpoints() {
		mux.Handle(r.pattern, r.handler)
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
func (a *Agent) handleFgprof(w http.ResponseWriter, r *http.Request) {
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

func (a *Agent) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"status":      "ok",
		"collections": a.collections.Load(),
	})
}

func (a *Agent) handleSnapshot(w http.ResponseWriter, r *http.Request) {
	if err := checkParams(r); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	s := a.Latest()
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
func (a *Agent) handleHistory(w http.ResponseWriter, r *http.Request) {
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
	snaps := a.Window(0).Since(since).Snapshots
	if limit > 0 && len(snaps) > limit {
		snaps = snaps[len(snaps)-limit:]
	}
	a.writeSnapshots(w, snaps)
}

// writeSnapshots writes a JSON array of snapshots one element at a time:
// ten minutes of history can be tens of megabytes, which must not be built
// in one buffer.
func (a *Agent) writeSnapshots(w http.ResponseWriter, snaps []*model.Snapshot) {
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

// checkParams rejects query parameters the endpoint does not know, so a
// typo gets an error instead of a silently ignored filter.
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

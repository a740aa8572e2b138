// Package connleak is the "conn-leak" detector: connections, response
// bodies and SQL result sets dropped without Close, exhausted database/sql
// pools, resources held idle, growing open counts and file descriptors
// near their limit. It is one of the default detectors (see package
// detectors); it lives in a package of its own for its size.
package connleak

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/asyncmon/asyncmon/detectors/internal/wording"
	"github.com/asyncmon/asyncmon/findings"
	"github.com/asyncmon/asyncmon/model"
)

// Defaults of [Config].
const (
	// A response body, result set or transaction is used and released
	// within one request; half a minute without any I/O while still open is
	// far outside anything healthy and well inside the time a pool takes
	// to run dry.
	defaultConnHeldIdle = 30 * time.Second
	// Keep-alive and pooled connections idle for minutes by design (the
	// http.Transport default is 90s, database/sql keeps idle connections
	// forever); report only those idle ten minutes and ten times longer
	// than the median of their kind.
	defaultConnIdleTime   = 10 * time.Minute
	defaultConnIdleFactor = 10.0
	defaultConnIdlePeers  = 5
	// Growth of the open count: at least 50 more over two minutes,
	// rising at every quarter of them, so a start-up ramp that levels off,
	// a burst, or a short pile-up behind a stall is not reported as a leak.
	defaultConnGrowthMin    = 50
	defaultConnGrowthWindow = 2 * time.Minute
	// One parked read loop per outstanding response body; 50 of them and
	// rising is a body leak whether or not the transport is tracked.
	defaultConnReadLoopMin = 50
	// File descriptors against RLIMIT_NOFILE.
	defaultConnFDWarn     = 0.80
	defaultConnFDCritical = 0.95
	// Definite leaks from one site at which the finding turns critical.
	defaultConnCriticalLeaks = 100
	// A definite leak keeps its finding for five minutes after the last
	// one from the same site, then the finding may resolve.
	defaultConnLeakRecent = 5 * time.Minute
	// Pool waits must have risen within the last minute.
	defaultConnPoolWindow = time.Minute
	// connMaxSites bounds the sites named in one finding's notes.
	connMaxSites = 5
)

// Config holds the thresholds of [Detector]. The zero value means
// the documented defaults.
type Config struct {
	// HeldIdle is how long a response body, SQL result set or transaction
	// may stay open without I/O before it is a suspected leak. Optional.
	// Default 30s.
	HeldIdle time.Duration
	// ConnIdle is how long a connection must be idle, and IdleFactor how
	// many times its kind's median idle time, to be reported as idle far
	// longer than its peers (it needs IdlePeers connections of its kind).
	// Optional. Defaults 10m, 10 and 5.
	ConnIdle   time.Duration
	IdleFactor float64
	IdlePeers  int
	// GrowthMin is how many more connections of one kind must be open at
	// the end of GrowthWindow than at its start for a growth finding; the
	// count must also rise at every quarter of it. Optional. Defaults 50
	// and 2m.
	GrowthMin    int
	GrowthWindow time.Duration
	// ReadLoopMin is how many http.Transport read loops parked on an
	// outstanding body make a finding (when also rising). Optional.
	// Default 50.
	ReadLoopMin int
	// FDWarn and FDCritical are fractions of RLIMIT_NOFILE in use that
	// make a warning and a critical finding. Optional. Defaults 0.8, 0.95.
	FDWarn, FDCritical float64
	// CriticalLeaks is the number of definite leaks from one site that
	// makes its finding critical. Optional. Default 100.
	CriticalLeaks int64
	// LeakRecent is how long after the last definite leak from a site its
	// condition still holds. Optional. Default 5m.
	LeakRecent time.Duration
	// PoolWindow is how far back an exhausted pool's wait count must have
	// risen. Optional. Default 1m.
	PoolWindow time.Duration
}

// Detector is the "conn-leak" detector. It reports:
//
//   - definite leaks: connections, response bodies and SQL result sets that
//     became unreachable while still open (from the connection tracker's
//     cleanups), one finding per kind and opening site;
//   - an exhausted database/sql pool: every connection in use and callers
//     waiting, naming the sites that hold the connections;
//   - suspected leaks: bodies, result sets and transactions open and idle
//     for longer than HeldIdle, and connections idle far longer than their
//     peers;
//   - the open count of a kind growing across the window;
//   - http.Transport read loops parked on outstanding bodies, rising;
//   - file descriptors nearing RLIMIT_NOFILE.
//
// Subjects are the opening site ("file:line") wherever one is known.
// Finding.Cause is the kind of condition: "leak", "pool", "held", "idle",
// "growth", "readloops" or "fds".
type Detector struct {
	cfg Config
}

// New returns the conn-leak detector with cfg's thresholds, zero
// fields taking their defaults.
func New(cfg Config) *Detector {
	if cfg.HeldIdle <= 0 {
		cfg.HeldIdle = defaultConnHeldIdle
	}
	if cfg.ConnIdle <= 0 {
		cfg.ConnIdle = defaultConnIdleTime
	}
	if cfg.IdleFactor <= 0 {
		cfg.IdleFactor = defaultConnIdleFactor
	}
	if cfg.IdlePeers <= 0 {
		cfg.IdlePeers = defaultConnIdlePeers
	}
	if cfg.GrowthMin <= 0 {
		cfg.GrowthMin = defaultConnGrowthMin
	}
	if cfg.GrowthWindow <= 0 {
		cfg.GrowthWindow = defaultConnGrowthWindow
	}
	if cfg.ReadLoopMin <= 0 {
		cfg.ReadLoopMin = defaultConnReadLoopMin
	}
	if cfg.FDWarn <= 0 {
		cfg.FDWarn = defaultConnFDWarn
	}
	if cfg.FDCritical <= 0 {
		cfg.FDCritical = defaultConnFDCritical
	}
	if cfg.CriticalLeaks <= 0 {
		cfg.CriticalLeaks = defaultConnCriticalLeaks
	}
	if cfg.LeakRecent <= 0 {
		cfg.LeakRecent = defaultConnLeakRecent
	}
	if cfg.PoolWindow <= 0 {
		cfg.PoolWindow = defaultConnPoolWindow
	}
	return &Detector{cfg: cfg}
}

// Name is the name of the [Detector] detector.
const Name = "conn-leak"

// Name implements [model.Detector].
func (d *Detector) Name() string { return Name }

// DefaultRule fires at once: a definite leak is certain, and the suspected
// conditions already need time (HeldIdle, the pool's rising waits, the
// window's growth). Findings resolve after 1m without their condition.
func (*Detector) DefaultRule() findings.Rule {
	return findings.Rule{For: -1, Clear: time.Minute, Cooldown: 5 * time.Minute}
}

// Detect implements [model.Detector].
func (d *Detector) Detect(w model.Window) []model.Finding {
	latest := w.Latest()
	if latest == nil {
		return nil
	}
	var out []model.Finding
	out = append(out, d.definite(latest)...)
	out = append(out, d.pools(w)...)
	out = append(out, d.held(latest)...)
	out = append(out, d.idle(latest)...)
	out = append(out, d.growth(w)...)
	out = append(out, d.readLoops(w)...)
	out = append(out, d.fds(latest)...)
	for i := range out {
		out[i].Detector = Name
		// The ID's first part is the kind of condition, a stable token:
		// leak, pool, held, idle, growth, readloops or fds.
		out[i].Cause, _, _ = strings.Cut(out[i].ID, ":")
		out[i].ID = Name + ":" + out[i].ID
		if out[i].FirstSeen.IsZero() {
			out[i].FirstSeen = latest.Time
		}
		out[i].LastSeen = latest.Time
	}
	return out
}

// connWhat names a kind in plain words, singular and plural.
func connWhat(kind string, n int64) string {
	var one, many string
	switch kind {
	case model.ConnHTTPBody:
		one, many = "HTTP response body", "HTTP response bodies"
	case model.ConnSQLRows:
		one, many = "SQL result set (sql.Rows)", "SQL result sets (sql.Rows)"
	case model.ConnSQLTx:
		one, many = "SQL transaction", "SQL transactions"
	case model.ConnSQL:
		one, many = "database connection", "database connections"
	case model.ConnServer:
		one, many = "accepted connection", "accepted connections"
	case model.ConnClient:
		one, many = "dialled connection", "dialled connections"
	default:
		one, many = kind+" connection", kind+" connections"
	}
	if n == 1 {
		return one
	}
	return many
}

// connAdvice says how to fix a leak of kind.
func connAdvice(kind string) string {
	switch kind {
	case model.ConnHTTPBody:
		return "Close the body on every path, error branches included: defer resp.Body.Close() right after checking the error of the request."
	case model.ConnSQLRows:
		return "Close the rows on every path, early returns included: defer rows.Close() right after checking the error of Query (QueryRow closes by itself)."
	case model.ConnSQLTx:
		return "End the transaction on every path: defer tx.Rollback() right after BeginTx (it is a no-op after Commit)."
	}
	return "Close the connection on every path: defer conn.Close() right after opening it."
}

// connCost says what one leak of kind pins.
func connCost(kind string) string {
	switch kind {
	case model.ConnHTTPBody:
		return "each pins a keep-alive connection and its read goroutine until the request's context ends, for good if it never does"
	case model.ConnSQLRows, model.ConnSQLTx:
		return "each holds a pool connection that never goes back to the pool"
	}
	return "each holds a socket and a file descriptor until the garbage collector closes it"
}

// definite reports the tracker's definite leaks, one finding per kind and
// site.
func (d *Detector) definite(s *model.Snapshot) []model.Finding {
	type key struct {
		kind string
		site model.Frame
	}
	type agg struct {
		n      int64
		latest model.Conn
	}
	sites := map[key]*agg{}
	var order []key
	for _, c := range s.Connections.Leaks {
		if s.Time.Sub(c.LeakedAt) > d.cfg.LeakRecent {
			continue // an old leak: the finding may resolve
		}
		k := key{c.Kind, c.OpenSite}
		a := sites[k]
		if a == nil {
			a = &agg{}
			sites[k] = a
			order = append(order, k)
		}
		n := c.SiteLeaksTotal
		if n == 0 {
			n = 1
		}
		a.n += n
		if c.LeakedAt.After(a.latest.LeakedAt) || a.latest.ID == 0 {
			a.latest = c
		}
	}
	var out []model.Finding
	for _, k := range order {
		a := sites[k]
		c := a.latest
		level := model.LevelWarning
		if a.n >= d.cfg.CriticalLeaks {
			level = model.LevelCritical
		}
		pool := ""
		if c.Pool != "" {
			pool = fmt.Sprintf(" of pool %q", c.Pool)
		}
		f := model.Finding{
			ID:      "leak:" + k.kind + ":" + k.site.Site(),
			Level:   level,
			Title:   fmt.Sprintf("%s%s leaked at %s", wording.UpperFirst(connWhat(k.kind, 2)), pool, k.site.ShortSite()),
			Subject: k.site.Site(),
			Summary: fmt.Sprintf("%d %s%s opened at %s (%s) became unreachable without being closed, the last at %s; %s. %s",
				a.n, connWhat(k.kind, a.n), pool, k.site.ShortSite(), k.site.ShortFunc(),
				c.LeakedAt.Format(time.TimeOnly), connCost(k.kind), connAdvice(k.kind)),
			Evidence: model.Evidence{
				Numbers: map[string]float64{
					"site_leaks_total":           float64(a.n),
					"kind_leaks_total":           float64(s.Connections.LeakedTotal[k.kind]),
					"kind_open":                  float64(s.Connections.OpenByKind[k.kind]),
					"last_leak_age_seconds":      c.AgeSeconds,
					"last_leak_bytes_in":         float64(c.BytesIn),
					"last_leak_since_io_seconds": c.IdleSeconds,
				},
				Stacks: []model.Stack{{Label: "opened at (last leak)", Frames: c.OpenStack}},
			},
		}
		if c.Remote != "" {
			f.Evidence.Notes = append(f.Evidence.Notes, "remote "+c.Remote)
		}
		out = append(out, f)
	}
	return out
}

// connHolder is one opening site holding resources of a pool or kind.
type connHolder struct {
	kind   string
	site   model.Frame
	stack  []model.Frame
	open   int     // still open (tracked)
	leaked int64   // definitely leaked
	oldest float64 // age of the oldest open one, seconds
}

// connHolders ranks the sites holding resources: open ones matching keep, and
// definite leaks matching keep (leaked ones still hold their pool slot).
func connHolders(s *model.Snapshot, keep func(model.Conn) bool) []connHolder {
	type key struct {
		kind string
		site model.Frame
	}
	m := map[key]*connHolder{}
	get := func(c model.Conn) *connHolder {
		k := key{c.Kind, c.OpenSite}
		h := m[k]
		if h == nil {
			h = &connHolder{kind: c.Kind, site: c.OpenSite, stack: c.OpenStack}
			m[k] = h
		}
		return h
	}
	for _, c := range s.Connections.Open {
		if keep(c) {
			h := get(c)
			h.open++
			h.oldest = max(h.oldest, c.AgeSeconds)
		}
	}
	for _, c := range s.Connections.Leaks {
		if keep(c) {
			n := c.SiteLeaksTotal
			if n == 0 {
				n = 1
			}
			get(c).leaked += n
		}
	}
	out := make([]connHolder, 0, len(m))
	for _, h := range m {
		out = append(out, *h)
	}
	slices.SortFunc(out, func(a, b connHolder) int {
		if c := cmp.Compare(int64(b.open)+b.leaked, int64(a.open)+a.leaked); c != 0 {
			return c
		}
		return cmp.Compare(a.site.Site(), b.site.Site())
	})
	return out
}

func connDescribeHolders(hs []connHolder) []string {
	var notes []string
	for i, h := range hs {
		if i == connMaxSites {
			notes = append(notes, fmt.Sprintf("and %d more sites", len(hs)-connMaxSites))
			break
		}
		var parts []string
		if h.open > 0 {
			parts = append(parts, fmt.Sprintf("%d open (oldest %s)", h.open, model.FormatSeconds(h.oldest)))
		}
		if h.leaked > 0 {
			parts = append(parts, fmt.Sprintf("%d leaked", h.leaked))
		}
		notes = append(notes, fmt.Sprintf("%s at %s (%s): %s", connWhat(h.kind, 2), h.site.Site(), h.site.ShortFunc(), strings.Join(parts, ", ")))
	}
	return notes
}

// pools reports exhausted database/sql pools: all connections in use and
// the wait count rising across the window.
func (d *Detector) pools(w model.Window) []model.Finding {
	latest := w.Latest()
	var out []model.Finding
	for _, p := range latest.Connections.Pools {
		if p.MaxOpen <= 0 || p.InUse < p.MaxOpen {
			continue
		}
		first, since, ok := connFirstPool(w.Since(latest.Time.Add(-d.cfg.PoolWindow)), p.Name)
		if !ok || p.WaitCountTotal <= first.WaitCountTotal {
			continue
		}
		waits := p.WaitCountTotal - first.WaitCountTotal
		waited := p.WaitSecondsTotal - first.WaitSecondsTotal
		hs := connHolders(latest, func(c model.Conn) bool {
			return c.Pool == p.Name && (c.Kind == model.ConnSQLRows || c.Kind == model.ConnSQLTx)
		})
		subject := "pool " + p.Name
		title := fmt.Sprintf("Database pool %q exhausted", p.Name)
		where := "Nothing tracked holds the connections: wrap the connector with the tracker to see which call sites do."
		var stacks []model.Stack
		if len(hs) > 0 {
			top := hs[0]
			subject = top.site.Site()
			title = fmt.Sprintf("Database pool %q exhausted, held by %s", p.Name, top.site.ShortSite())
			where = fmt.Sprintf("Most are held by %s opened at %s (%s). %s", connWhat(top.kind, 2), top.site.ShortSite(), top.site.ShortFunc(), connAdvice(top.kind))
			stacks = []model.Stack{{Label: "holder opened at", Frames: top.stack}}
		}
		out = append(out, model.Finding{
			ID:      "pool:" + p.Name,
			Level:   model.LevelCritical,
			Title:   title,
			Subject: subject,
			Summary: fmt.Sprintf("All %d connections of pool %q are in use and %d callers had to wait (%.1fs in total) since %s. %s",
				p.MaxOpen, p.Name, waits, waited, since.Format(time.TimeOnly), where),
			Evidence: model.Evidence{
				Numbers: map[string]float64{
					"pool_max_open":            float64(p.MaxOpen),
					"pool_in_use":              float64(p.InUse),
					"pool_idle":                float64(p.Idle),
					"pool_waits":               float64(waits),
					"pool_wait_seconds":        waited,
					"pool_wait_count_total":    float64(p.WaitCountTotal),
					"pool_wait_seconds_total":  p.WaitSecondsTotal,
					"window_seconds":           latest.Time.Sub(since).Seconds(),
					"tracked_holders_open":     float64(connSumOpen(hs)),
					"tracked_holders_leaked":   float64(connSumLeaked(hs)),
					"pool_max_idle_closed":     float64(p.MaxIdleClosedTotal),
					"pool_max_lifetime_closed": float64(p.MaxLifetimeClosedTotal),
				},
				Stacks: stacks,
				Notes:  connDescribeHolders(hs),
			},
		})
	}
	return out
}

func connSumOpen(hs []connHolder) (n int) {
	for _, h := range hs {
		n += h.open
	}
	return n
}

func connSumLeaked(hs []connHolder) (n int64) {
	for _, h := range hs {
		n += h.leaked
	}
	return n
}

// connFirstPool returns the oldest state of the named pool in the window.
func connFirstPool(w model.Window, name string) (model.Pool, time.Time, bool) {
	for _, s := range w.Snapshots {
		for _, p := range s.Connections.Pools {
			if p.Name == name {
				return p, s.Time, true
			}
		}
	}
	return model.Pool{}, time.Time{}, false
}

// connIsHeld reports whether kind is a resource held for one request, never
// idle for long when healthy.
func connIsHeld(kind string) bool {
	return kind == model.ConnHTTPBody || kind == model.ConnSQLRows || kind == model.ConnSQLTx
}

// held reports bodies, result sets and transactions open and idle for
// longer than HeldIdle, one finding per kind and site.
func (d *Detector) held(s *model.Snapshot) []model.Finding {
	limit := d.cfg.HeldIdle.Seconds()
	hs := connHolders(s, func(c model.Conn) bool { return connIsHeld(c.Kind) && c.IdleSeconds >= limit })
	var out []model.Finding
	for _, h := range hs {
		if h.open == 0 {
			continue // only leaked ones: the definite finding covers them
		}
		oldest := s.Time.Add(-time.Duration(h.oldest * float64(time.Second)))
		out = append(out, model.Finding{
			ID:      "held:" + h.kind + ":" + h.site.Site(),
			Level:   model.LevelWarning,
			Title:   fmt.Sprintf("%s left open at %s", wording.UpperFirst(connWhat(h.kind, 2)), h.site.ShortSite()),
			Subject: h.site.Site(),
			Summary: fmt.Sprintf("%d %s opened at %s (%s) have been open with no I/O for over %s (the oldest for %s); healthy code uses and closes them within a request. %s",
				h.open, connWhat(h.kind, int64(h.open)), h.site.ShortSite(), h.site.ShortFunc(), d.cfg.HeldIdle, model.FormatSeconds(h.oldest), connAdvice(h.kind)),
			Evidence: model.Evidence{
				Numbers: map[string]float64{
					"open_idle":          float64(h.open),
					"oldest_age_seconds": h.oldest,
					"held_idle_seconds":  limit,
				},
				Stacks: []model.Stack{{Label: "opened at", Frames: h.stack}},
			},
			FirstSeen: oldest,
		})
	}
	return out
}

// idle reports connections idle far longer than their peers.
func (d *Detector) idle(s *model.Snapshot) []model.Finding {
	byKind := map[string][]model.Conn{}
	for _, c := range s.Connections.Open {
		if !connIsHeld(c.Kind) {
			byKind[c.Kind] = append(byKind[c.Kind], c)
		}
	}
	var out []model.Finding
	for _, kind := range model.ConnKinds() {
		cs := byKind[kind]
		if len(cs) < d.cfg.IdlePeers {
			continue
		}
		idles := make([]float64, len(cs))
		for i, c := range cs {
			idles[i] = c.IdleSeconds
		}
		slices.Sort(idles)
		median := idles[len(idles)/2]
		limit := max(d.cfg.ConnIdle.Seconds(), median*d.cfg.IdleFactor)
		hs := connHolders(s, func(c model.Conn) bool { return c.Kind == kind && c.IdleSeconds >= limit })
		if len(hs) == 0 {
			continue
		}
		top := hs[0]
		out = append(out, model.Finding{
			ID:      "idle:" + kind,
			Level:   model.LevelInfo,
			Title:   fmt.Sprintf("%s idle far longer than their peers, opened at %s", wording.UpperFirst(connWhat(kind, 2)), top.site.ShortSite()),
			Subject: top.site.Site(),
			Summary: fmt.Sprintf("%d %s have had no I/O for over %s while the median one of their kind has been idle %s; they may have been forgotten. The most come from %s (%s).",
				connSumOpen(hs), connWhat(kind, int64(connSumOpen(hs))), model.FormatSeconds(limit), model.FormatSeconds(median), top.site.ShortSite(), top.site.ShortFunc()),
			Evidence: model.Evidence{
				Numbers: map[string]float64{
					"idle_outliers":        float64(connSumOpen(hs)),
					"median_idle_seconds":  median,
					"idle_limit_seconds":   limit,
					"open_of_kind_sampled": float64(len(cs)),
				},
				Stacks: []model.Stack{{Label: "opened at", Frames: top.stack}},
				Notes:  connDescribeHolders(hs),
			},
		})
	}
	return out
}

// growth reports kinds whose open count rose by GrowthMin over the last
// GrowthWindow, and rose at every quarter of it.
func (d *Detector) growth(w model.Window) []model.Finding {
	latest := w.Latest()
	if latest == nil || w.Span() < d.cfg.GrowthWindow {
		return nil
	}
	w = w.Since(latest.Time.Add(-d.cfg.GrowthWindow))
	n := len(w.Snapshots)
	if n < 5 {
		return nil
	}
	first := w.Oldest()
	points := []*model.Snapshot{first, w.Snapshots[n/4], w.Snapshots[n/2], w.Snapshots[3*n/4], latest}
	var out []model.Finding
	for _, kind := range model.ConnKinds() {
		rising := true
		for i := 1; i < len(points); i++ {
			rising = rising && points[i].Connections.OpenByKind[kind] > points[i-1].Connections.OpenByKind[kind]
		}
		a, m, z := first.Connections.OpenByKind[kind], points[2].Connections.OpenByKind[kind], latest.Connections.OpenByKind[kind]
		if !rising || z-a < d.cfg.GrowthMin {
			continue
		}
		hs := connHolders(latest, func(c model.Conn) bool { return c.Kind == kind })
		subject := "process"
		title := fmt.Sprintf("Open %s keep growing", connWhat(kind, 2))
		where := "Look for a missing Close."
		var stacks []model.Stack
		// The subject is the first site in the user's code: connections
		// that net/http dials on its own goroutines open in the standard
		// library, which says nothing about whose bug it is.
		user := slices.IndexFunc(hs, func(h connHolder) bool { return h.site.IsUser() })
		if len(hs) > 0 && user < 0 {
			where = fmt.Sprintf("Most of those listed were opened inside the standard library (%s), e.g. dialled by an http.Transport: look for response bodies that are not closed and for clients that are created per request.", hs[0].site.ShortFunc())
			stacks = []model.Stack{{Label: "most opened at", Frames: hs[0].stack}}
		}
		if user >= 0 {
			hs[0], hs[user] = hs[user], hs[0]
			subject = hs[0].site.Site()
			title = fmt.Sprintf("Open %s keep growing, most opened at %s", connWhat(kind, 2), hs[0].site.ShortSite())
			where = fmt.Sprintf("Most of those listed were opened at %s (%s): look there for a missing Close.", hs[0].site.ShortSite(), hs[0].site.ShortFunc())
			if kind == model.ConnServer {
				// Every accepted connection comes from the same Serve
				// call: the site says which server, not which bug.
				where = fmt.Sprintf("They are accepted at %s (%s). A server keeps a connection while its handler runs and while the client keeps it alive: look for handlers that do not return (goroutine groups under net/http.(*conn).serve) and for clients that open new connections instead of reusing them.",
					hs[0].site.ShortSite(), hs[0].site.ShortFunc())
			}
			stacks = []model.Stack{{Label: "most opened at", Frames: hs[0].stack}}
		}
		span := latest.Time.Sub(first.Time)
		out = append(out, model.Finding{
			ID:      "growth:" + kind,
			Level:   model.LevelWarning,
			Title:   title,
			Subject: subject,
			Summary: fmt.Sprintf("Open %s grew from %d to %d over %s and are still rising; something opens them faster than it closes them. %s",
				connWhat(kind, 2), a, z, span.Round(time.Second), where),
			Evidence: model.Evidence{
				Numbers: map[string]float64{
					"open_start":     float64(a),
					"open_mid":       float64(m),
					"open_now":       float64(z),
					"window_seconds": span.Seconds(),
				},
				Stacks: stacks,
				Notes:  connDescribeHolders(hs),
			},
			FirstSeen: first.Time,
		})
	}
	return out
}

// connReadLoopFunc is the goroutine http.Transport keeps per connection; it
// waits in a select while a response body is outstanding.
const connReadLoopFunc = "net/http.(*persistConn).readLoop"

// connParkedReadLoops counts goroutines parked in a Transport read loop's
// select, from the snapshot's group table.
func connParkedReadLoops(s *model.Snapshot) (int, string) {
	n, key := 0, ""
	for _, g := range s.Groups {
		if g.WaitReason != model.WaitSelect {
			continue
		}
		if connHasFunc(g.TopFrames, connReadLoopFunc) || connHasFunc(g.Stack, connReadLoopFunc) {
			n += g.Count
			if key == "" {
				key = g.Key
			}
		}
	}
	return n, key
}

func connHasFunc(fs []model.Frame, fn string) bool {
	for _, f := range fs {
		if f.Func == fn {
			return true
		}
	}
	return false
}

// readLoops reports many and rising Transport read loops parked on
// outstanding response bodies: a body leak even where no transport is
// tracked.
func (d *Detector) readLoops(w model.Window) []model.Finding {
	latest := w.Latest()
	n, key := connParkedReadLoops(latest)
	if n < d.cfg.ReadLoopMin {
		return nil
	}
	var before int
	var since time.Time
	found := false
	for _, s := range w.Snapshots {
		if len(s.Groups) > 0 && s != latest {
			before, _ = connParkedReadLoops(s)
			since = s.Time
			found = true
			break
		}
	}
	if !found || n <= before {
		return nil
	}
	hs := connHolders(latest, func(c model.Conn) bool { return c.Kind == model.ConnHTTPBody })
	subject := connReadLoopFunc
	where := "Wrap the client's transport with the connection tracker to see which call sites leave them open."
	var stacks []model.Stack
	if len(hs) > 0 {
		subject = hs[0].site.Site()
		where = fmt.Sprintf("Most outstanding bodies were opened at %s (%s). %s", hs[0].site.ShortSite(), hs[0].site.ShortFunc(), connAdvice(model.ConnHTTPBody))
		stacks = []model.Stack{{Label: "body opened at", Frames: hs[0].stack}}
	}
	return []model.Finding{{
		ID:      "readloops",
		Level:   model.LevelWarning,
		Title:   fmt.Sprintf("%d HTTP client connections wait for their response body to be read or closed", n),
		Subject: subject,
		Summary: fmt.Sprintf("%d http.Transport read loops (group %s) are parked waiting for a response body to be read to the end or closed, up from %d since %s; each is a connection that cannot be reused. %s",
			n, key, before, since.Format(time.TimeOnly), where),
		Evidence: model.Evidence{
			Numbers: map[string]float64{"parked_read_loops": float64(n), "parked_read_loops_before": float64(before)},
			Stacks:  stacks,
			Notes:   connDescribeHolders(hs),
		},
	}}
}

// fds reports file descriptor use nearing the soft RLIMIT_NOFILE.
func (d *Detector) fds(s *model.Snapshot) []model.Finding {
	p := s.Process
	if p.FDLimit <= 0 || p.FDs <= 0 {
		return nil
	}
	frac := float64(p.FDs) / float64(p.FDLimit)
	if frac < d.cfg.FDWarn {
		return nil
	}
	level := model.LevelWarning
	if frac >= d.cfg.FDCritical {
		level = model.LevelCritical
	}
	var counts []string
	for _, k := range model.ConnKinds() {
		if n := s.Connections.OpenByKind[k]; n > 0 {
			counts = append(counts, fmt.Sprintf("%d %s", n, connWhat(k, int64(n))))
		}
	}
	tracked := "No tracked connections explain it."
	if len(counts) > 0 {
		tracked = "Tracked now: " + strings.Join(counts, ", ") + "."
	}
	return []model.Finding{{
		ID:      "fds",
		Level:   level,
		Title:   fmt.Sprintf("File descriptors at %.0f%% of the limit", frac*100),
		Subject: "process",
		Summary: fmt.Sprintf("The process has %d file descriptors open against a soft limit (RLIMIT_NOFILE) of %d; at the limit, accept and dial fail with \"too many open files\". %s Look for connections or files that are never closed before raising the limit.",
			p.FDs, p.FDLimit, tracked),
		Evidence: model.Evidence{
			Numbers: map[string]float64{"fds": float64(p.FDs), "fd_limit": float64(p.FDLimit), "fd_fraction": frac},
		},
	}}
}

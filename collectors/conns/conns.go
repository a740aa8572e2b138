package conns

import (
	"cmp"
	"context"
	"database/sql"
	"log/slog"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asyncmon/asyncmon/model"
)

// Defaults of [Options].
const (
	// defaultMaxReported bounds Connections.Open: a snapshot is taken
	// every second or so and kept in the agent's history (600 of them by
	// default), a listed connection costs about 300 bytes, and a service
	// may hold tens of thousands of connections. The oldest are the
	// interesting ones; no kind gets more than a quarter of the list, so
	// a few thousand keep-alive connections cannot hide one old body.
	defaultMaxReported = 64
	// defaultMaxLeakSites bounds Connections.Leaks (one entry per kind and
	// opening stack).
	defaultMaxLeakSites = 64
	// maxFrameCache bounds the cache of resolved opening stacks. Services
	// open connections from a handful of places, so 1024 distinct stacks
	// means something unusual; the cache is then simply emptied.
	maxFrameCache = 1024
	// maxScan bounds the walk of the open list per collection, so that
	// the lock the wrappers take to open and close is never held long
	// (4096 records: tens of microseconds at worst). A kind whose oldest open
	// connection lies deeper (behind thousands of older ones of other
	// kinds) may go unlisted; the counts stay exact.
	maxScan = 4096
)

// maxStack is the number of program counters kept per opening stack. The
// user's frame sits below the wrappers and up to ~8 frames of net/http or
// database/sql; 20 leaves room for a dozen user frames at 160 bytes a
// connection.
const maxStack = 20

// Options configures a [Tracker]. The zero value works.
type Options struct {
	// Logger receives a warning on the 1st, 10th, 100th... definite leak
	// of each site. Optional. Default nil: silent.
	Logger *slog.Logger
	// MaxReported bounds the open connections listed per snapshot, oldest
	// first, at most a quarter of them (rounded up) of any one kind; counts
	// always cover all of them. Optional. Default 64.
	MaxReported int
	// MaxLeakSites bounds the definite leaks kept for snapshots, one per
	// kind and opening stack. Optional. Default 64.
	MaxLeakSites int
	// SkipPackages are extra import paths (or path prefixes ending in
	// "/") whose frames are not taken as a connection's opening site, for
	// a client library wrapping net/http or database/sql. Optional.
	SkipPackages []string
}

// Tracker tracks connections, HTTP response bodies, SQL result sets and
// transactions opened through its wrappers, and the database/sql pools
// given to [Tracker.TrackDB]. It is a [model.Collector] (name
// "connections") filling [model.Snapshot.Connections].
//
// # How it works
//
// Every wrapper holds a small state record that the tracker keeps in a
// list in opening order. Opening captures up to 20 program counters of the
// caller's stack (about a microsecond, no symbolisation); frames are
// resolved only when a snapshot reports them, and cached. Reads and
// writes add to a byte counter and stamp the connection with a coarse
// clock that each Collect advances: no lock, no allocation, no clock
// read.
//
// # Idle time
//
// Because of that coarse clock, a connection's LastIO is the time of the
// latest collection before its last read or write (or its opening time,
// if later), so IdleSeconds may read up to one collection interval (1 s
// at the agent's defaults) more than the true idle time, never less. A
// connection that did I/O since the last collection shows an idle time
// of at most one interval.
//
// The wrapper the user holds (the net.Conn, the response body, the
// driver rows) carries a [runtime.AddCleanup]. If the wrapper becomes
// unreachable while still open, nobody can close it any more: the cleanup
// records a definite leak with the opening stack. It closes nothing; the
// point is to name the bug, not to hide it.
//
// All methods are safe for concurrent use. A Tracker starts no
// goroutines and needs no Close.
type Tracker struct {
	logger       *slog.Logger
	maxReported  int
	maxLeakSites int
	skip         []string
	epoch        time.Time

	// clock is the coarse clock the wrappers stamp I/O with: nanoseconds
	// since epoch, advanced by each Collect. Kept apart from the counters
	// written on every open, so that reading it shares no cache line with
	// them.
	_     [64]byte
	clock atomic.Int64
	_     [56]byte

	nextID atomic.Uint64
	open   [numKinds]atomic.Int64
	leaked [numKinds]atomic.Int64

	mu sync.Mutex // guards head, tail, leaks and leakSeq
	// head is the oldest open connection, tail the newest.
	head, tail *connState
	leaks      map[leakKey]*leakRecord
	leakSeq    uint64

	poolsMu sync.Mutex // guards pools
	pools   []trackedPool

	framesMu sync.Mutex // guards frames
	frames   map[[maxStack]uintptr]resolvedStack

	// deadlines counts calls made without a deadline (deadline.go).
	deadlines deadlines
}

// NewTracker returns a tracker with no connections.
func NewTracker(opts Options) *Tracker {
	t := &Tracker{
		logger:       opts.Logger,
		maxReported:  opts.MaxReported,
		maxLeakSites: opts.MaxLeakSites,
		skip:         slices.Clone(opts.SkipPackages),
		epoch:        time.Now(),
		leaks:        make(map[leakKey]*leakRecord),
		frames:       make(map[[maxStack]uintptr]resolvedStack),
	}
	if t.maxReported <= 0 {
		t.maxReported = defaultMaxReported
	}
	if t.maxLeakSites <= 0 {
		t.maxLeakSites = defaultMaxLeakSites
	}
	return t
}

// connKind indexes the per-kind counters.
type connKind uint8

const (
	kindServer connKind = iota
	kindClient
	kindHTTPBody
	kindSQL
	kindSQLRows
	kindSQLTx
	numKinds
)

func (k connKind) String() string {
	switch k {
	case kindServer:
		return model.ConnServer
	case kindClient:
		return model.ConnClient
	case kindHTTPBody:
		return model.ConnHTTPBody
	case kindSQL:
		return model.ConnSQL
	case kindSQLRows:
		return model.ConnSQLRows
	case kindSQLTx:
		return model.ConnSQLTx
	}
	return "unknown"
}

// connState is what the tracker knows of one open connection. It is held
// by the tracker's list and by the wrapper, never the other way round, so
// the wrapper can become unreachable while the state survives to report
// it.
type connState struct {
	t      *Tracker
	id     uint64
	kind   connKind
	pool   string
	local  net.Addr
	remote string // for kinds without a net.Addr (http-body)
	raddr  net.Addr
	opened time.Time
	stack  [maxStack]uintptr

	lastIO atomic.Int64 // nanoseconds since t.epoch
	in     atomic.Int64
	out    atomic.Int64
	done   atomic.Bool // closed, drained or leaked

	cleanup runtime.Cleanup // set once, before the wrapper is shared

	prev, next *connState // guarded by t.mu
}

// begin registers a new open connection. skip is the number of frames
// above begin's caller to leave out of the opening stack (0: the caller of
// begin is the first frame). The other arguments are the connection's
// fixed attributes, set before it is shared.
func (t *Tracker) begin(kind connKind, skip int, pool string, local, raddr net.Addr, remote string) *connState {
	var pcs [maxStack]uintptr
	// runtime.Callers counts itself as 0 and begin as 1.
	runtime.Callers(skip+2, pcs[:])
	return t.beginAt(kind, &pcs, pool, local, raddr, remote)
}

// beginAt is begin with the opening stack already walked.
func (t *Tracker) beginAt(kind connKind, pcs *[maxStack]uintptr, pool string, local, raddr net.Addr, remote string) *connState {
	st := &connState{t: t, kind: kind, pool: pool, local: local, raddr: raddr, remote: remote, opened: time.Now(), stack: *pcs}
	st.id = t.nextID.Add(1)
	st.lastIO.Store(int64(st.opened.Sub(t.epoch)))
	t.mu.Lock()
	st.prev = t.tail
	if t.tail != nil {
		t.tail.next = st
	} else {
		t.head = st
	}
	t.tail = st
	t.mu.Unlock()
	t.open[kind].Add(1)
	return st
}

// unlinkLocked removes st from the open list. t.mu must be held.
func (t *Tracker) unlinkLocked(st *connState) {
	if st.prev != nil {
		st.prev.next = st.next
	} else {
		t.head = st.next
	}
	if st.next != nil {
		st.next.prev = st.prev
	} else {
		t.tail = st.prev
	}
	st.prev, st.next = nil, nil
}

// watch attaches the leak check to the user-facing wrapper w.
func watch[T any](w *T, st *connState) {
	st.cleanup = runtime.AddCleanup(w, leakCleanup, st)
}

// leakCleanup runs when a watched wrapper became unreachable.
func leakCleanup(st *connState) { st.t.leak(st) }

// finish marks st closed (or drained). It reports whether this call was the
// one that closed it.
func (t *Tracker) finish(st *connState) bool {
	if !st.done.CompareAndSwap(false, true) {
		return false
	}
	st.cleanup.Stop()
	t.mu.Lock()
	t.unlinkLocked(st)
	t.mu.Unlock()
	t.open[st.kind].Add(-1)
	return true
}

// touch records I/O on st at the coarse clock's time. It only writes when
// the clock has moved, so a busy connection's record is written about once
// per collection, not per call.
func (st *connState) touch() {
	if c := st.t.clock.Load(); c > st.lastIO.Load() {
		st.lastIO.Store(c)
	}
}

// leakKey identifies a leak site: one kind, one opening stack.
type leakKey struct {
	kind  connKind
	stack [maxStack]uintptr
}

// leakRecord is the latest definite leak at one site.
type leakRecord struct {
	conn  model.Conn // without the resolved stack
	count int64
	seq   uint64
}

// leak records a definite leak: st's wrapper became unreachable while
// still open.
func (t *Tracker) leak(st *connState) {
	if !st.done.CompareAndSwap(false, true) {
		return
	}
	now := time.Now()
	c := st.conn(t, now)
	c.Leaked = true
	c.LeakedAt = now
	key := leakKey{kind: st.kind, stack: st.stack}
	t.mu.Lock()
	t.unlinkLocked(st)
	t.leakSeq++
	rec := t.leaks[key]
	if rec == nil {
		if len(t.leaks) >= t.maxLeakSites {
			t.evictOldestLeakLocked()
		}
		rec = &leakRecord{}
		t.leaks[key] = rec
	}
	rec.conn = c
	rec.count++
	rec.seq = t.leakSeq
	count := rec.count
	t.mu.Unlock()
	t.open[st.kind].Add(-1)
	t.leaked[st.kind].Add(1)
	// A leaking site leaks at the request rate: log its 1st, 10th, 100th...
	// leak, not every one.
	if t.logger != nil && isPow10(count) {
		site, _ := t.resolve(st.stack)
		t.logger.Warn("connection leaked",
			"kind", st.kind.String(), "site", site.Site(), "func", site.Func,
			"leaks_at_site", count, "age", now.Sub(st.opened).Round(time.Millisecond).String())
	}
}

// isPow10 reports whether n is 1, 10, 100, ...
func isPow10(n int64) bool {
	for n >= 10 && n%10 == 0 {
		n /= 10
	}
	return n == 1
}

// evictOldestLeakLocked drops the leak site seen least recently.
func (t *Tracker) evictOldestLeakLocked() {
	var oldest leakKey
	var seq uint64
	first := true
	for k, r := range t.leaks {
		if first || r.seq < seq {
			oldest, seq, first = k, r.seq, false
		}
	}
	delete(t.leaks, oldest)
}

// conn converts st to its model form, without frames.
func (st *connState) conn(t *Tracker, now time.Time) model.Conn {
	c := model.Conn{
		ID:       st.id,
		Kind:     st.kind.String(),
		Pool:     st.pool,
		Opened:   st.opened,
		BytesIn:  st.in.Load(),
		BytesOut: st.out.Load(),
		Remote:   st.remote,
	}
	if st.local != nil {
		c.Local = st.local.String()
	}
	if st.raddr != nil {
		c.Remote = st.raddr.String()
	}
	c.LastIO = t.epoch.Add(time.Duration(st.lastIO.Load()))
	c.AgeSeconds = now.Sub(st.opened).Seconds()
	c.IdleSeconds = max(0, now.Sub(c.LastIO).Seconds())
	return c
}

// Name implements [model.Collector].
func (t *Tracker) Name() string { return "connections" }

// Collect implements [model.Collector]: it fills s.Connections with the
// open connections (oldest first, bounded), counts per kind, the definite
// leaks and the tracked pools. When s already holds the goroutine groups
// (the collector order of [model.Collector]: the agent runs the tracker
// after the goroutine group collector), each open response body is given
// the group of Transport read loops holding it.
func (t *Tracker) Collect(ctx context.Context, s *model.Snapshot) error {
	now := time.Now()
	t.clock.Store(int64(now.Sub(t.epoch)))
	type pending struct {
		c     model.Conn
		stack [maxStack]uintptr
	}
	var open []pending
	var leaks []pending
	var leakSeqs []uint64

	perKind := (t.maxReported + 3) / 4
	var listed [numKinds]int
	t.mu.Lock()
	scanned := 0
	for st := t.head; st != nil && len(open) < t.maxReported && scanned < maxScan; st = st.next {
		scanned++
		if listed[st.kind] == perKind {
			continue
		}
		listed[st.kind]++
		open = append(open, pending{c: st.conn(t, now), stack: st.stack})
	}
	for k, r := range t.leaks {
		c := r.conn
		c.SiteLeaksTotal = r.count
		leaks = append(leaks, pending{c: c, stack: k.stack})
		leakSeqs = append(leakSeqs, r.seq)
	}
	t.mu.Unlock()

	cs := &s.Connections
	cs.OpenByKind = make(map[string]int, numKinds)
	cs.LeakedTotal = make(map[string]int64, numKinds)
	total := 0
	for k := range numKinds {
		n := int(t.open[k].Load())
		total += n
		cs.OpenByKind[k.String()] = n
		cs.LeakedTotal[k.String()] = t.leaked[k].Load()
	}
	cs.OpenTotal = total
	cs.Truncated = total > len(open)

	cs.Open = make([]model.Conn, 0, len(open))
	for _, p := range open {
		p.c.OpenSite, p.c.OpenStack = t.resolve(p.stack)
		cs.Open = append(cs.Open, p.c)
	}
	// Newest leak last.
	order := make([]int, len(leaks))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(leakSeqs[a], leakSeqs[b]) })
	cs.Leaks = make([]model.Conn, 0, len(leaks))
	for _, i := range order {
		p := leaks[i]
		p.c.OpenSite, p.c.OpenStack = t.resolve(p.stack)
		cs.Leaks = append(cs.Leaks, p.c)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	cs.Pools = t.poolStats()
	fillBodyGroups(s)
	t.collectNoDeadline(s)
	return nil
}

// readLoopFunc is where net/http parks one goroutine per connection of an
// http.Transport; while a response body is outstanding it waits in a
// select for the body to be read or closed.
const readLoopFunc = "net/http.(*persistConn).readLoop"

// fillBodyGroups names, for open response bodies, the goroutine group of
// Transport read loops holding them, when the group table is already in
// the snapshot.
func fillBodyGroups(s *model.Snapshot) {
	key := ""
	for _, g := range s.Groups {
		if g.WaitReason == model.WaitSelect && stackHas(g, readLoopFunc) {
			key = g.Key
			break
		}
	}
	if key == "" {
		return
	}
	for i := range s.Connections.Open {
		if s.Connections.Open[i].Kind == model.ConnHTTPBody {
			s.Connections.Open[i].Group = key
		}
	}
}

func stackHas(g model.GoroutineGroup, fn string) bool {
	for _, f := range g.TopFrames {
		if f.Func == fn {
			return true
		}
	}
	for _, f := range g.Stack {
		if f.Func == fn {
			return true
		}
	}
	return g.CreatedBy.Func == fn
}

// resolvedStack is an opening stack in model form.
type resolvedStack struct {
	site  model.Frame
	stack []model.Frame
}

// resolve turns an opening stack into its site (the innermost frame
// outside the skipped packages) and its frames, innermost first. Results
// are cached; the returned slice is shared and must not be modified.
func (t *Tracker) resolve(pcs [maxStack]uintptr) (model.Frame, []model.Frame) {
	t.framesMu.Lock()
	r, ok := t.frames[pcs]
	t.framesMu.Unlock()
	if ok {
		return r.site, r.stack
	}
	n := 0
	for n < len(pcs) && pcs[n] != 0 {
		n++
	}
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		mf := model.Frame{Func: f.Function, File: f.File, Line: f.Line}
		if f.Function != "" && mf.Code() != model.OwnCode {
			r.stack = append(r.stack, mf)
			if r.site.IsZero() && !t.skipFrame(mf) {
				r.site = mf
			}
		}
		if !more {
			break
		}
	}
	if r.site.IsZero() && len(r.stack) > 0 {
		// No user frame: opened by the library itself (a Transport's
		// dialling goroutine, a pool's opener). Its innermost frame is
		// the best name there is.
		r.site = r.stack[0]
	}
	t.framesMu.Lock()
	if len(t.frames) >= maxFrameCache {
		clear(t.frames)
	}
	t.frames[pcs] = r
	t.framesMu.Unlock()
	return r.site, r.stack
}

// skipFrame reports whether a frame is never the opening site: it is not
// the user's code (the standard library between the user's call and the
// wrapper, or asyncmon's own), or it is in a package the user asked to skip.
func (t *Tracker) skipFrame(f model.Frame) bool {
	if !f.IsUser() {
		return true
	}
	pkg := model.FuncPackage(f.Func)
	for _, s := range t.skip {
		if pkg == s || (strings.HasSuffix(s, "/") && strings.HasPrefix(pkg, s)) {
			return true
		}
	}
	return false
}

// trackedPool is a database/sql pool reported in snapshots.
type trackedPool struct {
	name string
	db   *sql.DB
}

// poolStats reads every tracked pool's statistics.
func (t *Tracker) poolStats() []model.Pool {
	t.poolsMu.Lock()
	pools := slices.Clone(t.pools)
	t.poolsMu.Unlock()
	if len(pools) == 0 {
		return nil
	}
	out := make([]model.Pool, 0, len(pools))
	for _, p := range pools {
		st := p.db.Stats()
		out = append(out, model.Pool{
			Name:                   p.name,
			Kind:                   PoolKindSQL,
			MaxOpen:                st.MaxOpenConnections,
			Open:                   st.OpenConnections,
			InUse:                  st.InUse,
			Idle:                   st.Idle,
			WaitCountTotal:         st.WaitCount,
			WaitSecondsTotal:       st.WaitDuration.Seconds(),
			MaxIdleClosedTotal:     st.MaxIdleClosed + st.MaxIdleTimeClosed,
			MaxLifetimeClosedTotal: st.MaxLifetimeClosed,
		})
	}
	return out
}

// PoolKindSQL is the [model.Pool] kind of database/sql pools.
const PoolKindSQL = "database/sql"

// TrackDB adds db's pool statistics ([sql.DBStats]) to every snapshot under
// name. Tracking a name again replaces the pool.
func (t *Tracker) TrackDB(name string, db *sql.DB) {
	if db == nil {
		return
	}
	t.poolsMu.Lock()
	defer t.poolsMu.Unlock()
	for i := range t.pools {
		if t.pools[i].name == name {
			t.pools[i].db = db
			return
		}
	}
	t.pools = append(t.pools, trackedPool{name: name, db: db})
}

// UntrackDB stops reporting the pool tracked under name.
func (t *Tracker) UntrackDB(name string) {
	t.poolsMu.Lock()
	defer t.poolsMu.Unlock()
	t.pools = slices.DeleteFunc(t.pools, func(p trackedPool) bool { return p.name == name })
}

// OpenCount returns the number of open tracked connections of kind (one of
// the model.Conn* constants), 0 for an unknown kind.
func (t *Tracker) OpenCount(kind string) int {
	for k := range numKinds {
		if k.String() == kind {
			return int(t.open[k].Load())
		}
	}
	return 0
}

// LeakedCount returns the number of definite leaks of kind since the
// tracker started.
func (t *Tracker) LeakedCount(kind string) int64 {
	for k := range numKinds {
		if k.String() == kind {
			return t.leaked[k].Load()
		}
	}
	return 0
}

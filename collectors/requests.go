package collectors

import (
	"bytes"
	"cmp"
	"context"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asyncmon/asyncmon/collectors/dump"
	"github.com/asyncmon/asyncmon/model"
)

// Requests defaults.
const (
	defaultStackAfter   = 20 * time.Second
	defaultStackEvery   = 10 * time.Second
	defaultMaxRequests  = 100
	maxRequestPath      = 200
	maxRequestDumpBytes = 64 << 20
	// maxRequestDumpGoroutines is the goroutine count above which no
	// dump is taken for request stacks: the dump stops the world for a
	// time that grows with the count (about 3 s at 100k), too much for
	// evidence that the goroutine table already locates.
	maxRequestDumpGoroutines = 10_000
)

// RequestsOptions configures [NewRequests]. The zero value works.
type RequestsOptions struct {
	// StackAfter is the age from which a request's handler goroutine
	// stack is read (from a goroutine dump). Optional. Default 20 s, so
	// that a request stuck for the stuck-request detector's 30 s has its
	// stack.
	StackAfter time.Duration
	// StackEvery bounds how often a goroutine dump is taken to read
	// those stacks: a dump stops the world for a moment. A request that
	// turns old between two dumps gets its stack at the next one.
	// No dump is taken above 10,000 goroutines. Optional. Default 10 s.
	StackEvery time.Duration
	// MaxRequests bounds the requests reported per snapshot, oldest
	// first. Optional. Default 100.
	MaxRequests int
	// Panics records the handlers' panics (see [Panics]). Optional.
	// Default nil: panics pass through unrecorded.
	Panics *Panics
}

// Requests tracks HTTP requests in flight through its [Requests.Middleware]
// and reports them in Snapshot.Requests, oldest first, with the handler
// goroutine's stack for the old ones. Middleware is safe for concurrent
// use; Collect must be called from one goroutine at a time.
type Requests struct {
	opts RequestsOptions

	mu       sync.Mutex // guards inflight and next
	inflight map[uint64]*inflight
	next     uint64

	// started and completed count requests for Snapshot.RequestLoad.
	started, completed atomic.Uint64

	// Collect only.
	stacks   map[int64][]model.Frame
	lastDump time.Time
	dumps    int // dumps taken, for tests
}

// inflight is one request being served.
type inflight struct {
	method, path string
	started      time.Time
	gid          int64
}

// NewRequests returns a request tracker.
func NewRequests(opts RequestsOptions) *Requests {
	if opts.StackAfter <= 0 {
		opts.StackAfter = defaultStackAfter
	}
	if opts.StackEvery <= 0 {
		opts.StackEvery = defaultStackEvery
	}
	if opts.MaxRequests <= 0 {
		opts.MaxRequests = defaultMaxRequests
	}
	return &Requests{opts: opts, inflight: make(map[uint64]*inflight), stacks: make(map[int64][]model.Frame)}
}

// Name implements model.Collector.
func (r *Requests) Name() string { return "requests" }

// Middleware wraps h so that its requests are tracked while in flight,
// counted as they arrive and finish, and their panics recorded with
// RequestsOptions.Panics (then passed on to net/http unchanged).
func (r *Requests) Middleware(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		path := req.URL.Path
		if len(path) > maxRequestPath {
			path = path[:maxRequestPath]
		}
		in := &inflight{method: req.Method, path: path, started: time.Now(), gid: goroutineID()}
		r.mu.Lock()
		r.next++
		id := r.next
		r.inflight[id] = in
		r.mu.Unlock()
		r.started.Add(1)
		defer func() {
			r.mu.Lock()
			delete(r.inflight, id)
			r.mu.Unlock()
			r.completed.Add(1)
		}()
		defer r.opts.Panics.recoverHandler(req)
		h.ServeHTTP(w, req)
	})
}

// goroutineID reads the calling goroutine's ID from its stack header,
// "goroutine 123 [running]:". The runtime offers no other way.
func goroutineID() int64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b, ok := bytes.CutPrefix(b, []byte("goroutine "))
	if !ok {
		return 0
	}
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseInt(string(b), 10, 64)
	return id
}

// Collect implements model.Collector: it fills s.Requests.
func (r *Requests) Collect(ctx context.Context, s *model.Snapshot) error {
	now := time.Now()
	r.mu.Lock()
	reqs := make([]inflight, 0, len(r.inflight))
	for _, in := range r.inflight {
		reqs = append(reqs, *in)
	}
	r.mu.Unlock()
	s.RequestLoad = r.load(now, reqs)
	if len(reqs) == 0 {
		clear(r.stacks)
		return nil
	}
	slices.SortFunc(reqs, func(a, b inflight) int { return cmp.Or(a.started.Compare(b.started), cmp.Compare(a.gid, b.gid)) })
	reqs = reqs[:min(len(reqs), r.opts.MaxRequests)]

	needDump := false
	live := make(map[int64]bool)
	for _, in := range reqs {
		if now.Sub(in.started) >= r.opts.StackAfter {
			live[in.gid] = true
			if _, ok := r.stacks[in.gid]; !ok {
				needDump = true
			}
		}
	}
	// A dump is due when a request lacks its stack, but never more often
	// than StackEvery: requests that keep turning old (a stalled
	// handler under load) must not turn into a dump per collection.
	needDump = needDump && now.Sub(r.lastDump) >= r.opts.StackEvery &&
		runtime.NumGoroutine() <= maxRequestDumpGoroutines
	for gid := range r.stacks {
		if !live[gid] {
			delete(r.stacks, gid)
		}
	}
	if needDump && ctx.Err() == nil {
		r.lastDump = now
		r.dumps++
		r.readStacks(live)
	}
	s.Requests = make([]model.Request, 0, len(reqs))
	for _, in := range reqs {
		s.Requests = append(s.Requests, model.Request{
			Method:      in.method,
			Path:        in.path,
			Started:     in.started,
			AgeSeconds:  now.Sub(in.started).Seconds(),
			GoroutineID: in.gid,
			Stack:       r.stacks[in.gid],
		})
	}
	return nil
}

// readStacks takes a goroutine dump and keeps the stacks of the wanted
// goroutines.
func (r *Requests) readStacks(want map[int64]bool) {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) || len(buf) >= maxRequestDumpBytes {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	d, err := dump.Parse(bytes.NewReader(buf))
	if err != nil {
		return
	}
	for _, g := range d.Goroutines {
		if want[g.ID] {
			r.stacks[g.ID] = g.Frames
		}
	}
}

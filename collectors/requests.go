package collectors

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"math/rand/v2"
	"net/http"
	"reflect"
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
	// requestShards is the number of independently locked slabs the
	// middleware spreads its records over. A request takes one shard's
	// lock twice for a few nanoseconds; with 32 shards two cores rarely
	// meet on one, and Collect's walk of all of them is still trivial.
	requestShards = 32
	// Token layout: sequence (32 bits) | shard (8 bits) | slot (24 bits).
	tokenShardShift = 24
	tokenSlotMask   = 1<<tokenShardShift - 1
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
// goroutine's ID and stack for the old ones. Middleware is safe for
// concurrent use; Collect must be called from one goroutine at a time.
//
// # How it works
//
// The request path does no stack walk and takes no global lock: a
// request's record (method, path, start time) goes into one of 32 slabs,
// picked at random, under that slab's own lock, and out again when the
// handler returns; no allocation once the slabs have grown to the peak
// number of requests in flight. The record's token (slab, slot and a
// sequence number) is passed as the first argument of a small function
// that calls the handler. Go's goroutine dump prints the first arguments
// of each frame, so when a request has grown old Collect finds its handler
// goroutine in a dump by that token: the goroutine's ID and stack are
// read only for requests that need them, never per request. Should a
// compiler ever print the token as unknown ("0x0?"), the request is
// still reported, without its stack.
type Requests struct {
	opts   RequestsOptions
	shards [requestShards]requestShard
	// serveFunc is serveTracked's name as the dump prints it.
	serveFunc string

	// started and completed count requests for Snapshot.RequestLoad.
	started, completed atomic.Uint64

	// Collect only.
	stacks   map[uint64]requestStack // by token
	lastDump time.Time
	dumps    int // dumps taken, for tests
}

// requestShard is one slab of in-flight records. Padded to its own cache
// lines so that two cores working on neighbouring shards do not share one.
type requestShard struct {
	mu   sync.Mutex // guards recs, free and seq
	recs []inflight
	free []uint32 // indexes of unused recs
	seq  uint32
	_    [64]byte
}

// inflight is one request being served; token 0 marks a free slot.
type inflight struct {
	token        uint64
	method, path string
	started      time.Time
}

// requestStack is what a dump told of one old request's handler.
type requestStack struct {
	gid    int64
	frames []model.Frame
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
	return &Requests{
		opts:      opts,
		stacks:    make(map[uint64]requestStack),
		serveFunc: runtime.FuncForPC(reflect.ValueOf(serveTracked).Pointer()).Name(),
	}
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
		token := r.start(req.Method, path)
		r.started.Add(1)
		finished := false
		defer func() {
			// Only when the handler panicked: net/http recovers the
			// panic, and the record must not stay in flight forever.
			if !finished {
				r.finish(token)
				r.completed.Add(1)
			}
		}()
		// Runs first: records the panic, then panics again.
		defer r.opts.Panics.recoverHandler(req)
		r.finish(serveTracked(token, h, w, req))
		r.completed.Add(1)
		finished = true
	})
}

// serveTracked calls the handler. token is its first argument and is used
// after the call, so the compiler keeps it in the frame's argument spill
// slot, where a goroutine dump prints it: that is how Collect tells which
// goroutine serves which request. It must not be inlined, and must not
// defer (a deferred use leaves the argument unprinted).
//
//go:noinline
func serveTracked(token uint64, h http.Handler, w http.ResponseWriter, req *http.Request) uint64 {
	h.ServeHTTP(w, req)
	return token
}

// start records a request and returns its token.
func (r *Requests) start(method, path string) uint64 {
	now := time.Now()
	i := rand.Uint32N(requestShards)
	sh := &r.shards[i]
	sh.mu.Lock()
	sh.seq++
	if sh.seq == 0 {
		sh.seq = 1 // token 0 means free
	}
	var slot uint32
	if n := len(sh.free); n > 0 {
		slot = sh.free[n-1]
		sh.free = sh.free[:n-1]
	} else {
		if len(sh.recs) > tokenSlotMask {
			// More than 16M requests in flight on one shard: not
			// tracked rather than corrupting a token.
			sh.mu.Unlock()
			return 0
		}
		slot = uint32(len(sh.recs))
		sh.recs = append(sh.recs, inflight{})
	}
	token := uint64(sh.seq)<<32 | uint64(i)<<tokenShardShift | uint64(slot)
	sh.recs[slot] = inflight{token: token, method: method, path: path, started: now}
	sh.mu.Unlock()
	return token
}

// finish removes the request of token, if it is still there.
func (r *Requests) finish(token uint64) {
	if token == 0 {
		return
	}
	sh := &r.shards[(token>>tokenShardShift)&0xff%requestShards]
	slot := uint32(token & tokenSlotMask)
	sh.mu.Lock()
	if int(slot) < len(sh.recs) && sh.recs[slot].token == token {
		sh.recs[slot] = inflight{}
		sh.free = append(sh.free, slot)
	}
	sh.mu.Unlock()
}

// Collect implements model.Collector: it fills s.Requests.
func (r *Requests) Collect(ctx context.Context, s *model.Snapshot) error {
	now := time.Now()
	var reqs []inflight
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.Lock()
		for _, in := range sh.recs {
			if in.token != 0 {
				reqs = append(reqs, in)
			}
		}
		sh.mu.Unlock()
	}
	s.RequestLoad = r.load(now, reqs)
	if len(reqs) == 0 {
		clear(r.stacks)
		return nil
	}
	slices.SortFunc(reqs, func(a, b inflight) int {
		return cmp.Or(a.started.Compare(b.started), cmp.Compare(a.token, b.token))
	})
	reqs = reqs[:min(len(reqs), r.opts.MaxRequests)]

	needDump := false
	live := make(map[uint64]bool)
	for _, in := range reqs {
		if now.Sub(in.started) >= r.opts.StackAfter {
			live[in.token] = true
			if _, ok := r.stacks[in.token]; !ok {
				needDump = true
			}
		}
	}
	// A dump is due when a request lacks its stack, but never more often
	// than StackEvery: requests that keep turning old (a stalled
	// handler under load) must not turn into a dump per collection.
	needDump = needDump && now.Sub(r.lastDump) >= r.opts.StackEvery &&
		runtime.NumGoroutine() <= maxRequestDumpGoroutines
	for token := range r.stacks {
		if !live[token] {
			delete(r.stacks, token)
		}
	}
	if needDump && ctx.Err() == nil {
		r.lastDump = now
		r.dumps++
		r.readStacks(live)
	}
	s.Requests = make([]model.Request, 0, len(reqs))
	for _, in := range reqs {
		st := r.stacks[in.token]
		s.Requests = append(s.Requests, model.Request{
			Method:      in.method,
			Path:        in.path,
			Started:     in.started,
			AgeSeconds:  now.Sub(in.started).Seconds(),
			GoroutineID: st.gid,
			Stack:       st.frames,
		})
	}
	return nil
}

// readStacks takes a goroutine dump and keeps the handler goroutines'
// IDs and stacks of the wanted tokens.
func (r *Requests) readStacks(want map[uint64]bool) {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) || len(buf) >= maxRequestDumpBytes {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	gids := handlerGoroutines(buf, r.serveFunc, want)
	if len(gids) == 0 {
		return
	}
	d, err := dump.Parse(bytes.NewReader(buf))
	if err != nil {
		return
	}
	for _, g := range d.Goroutines {
		if token, ok := gids[g.ID]; ok {
			r.stacks[token] = requestStack{gid: g.ID, frames: g.Frames}
		}
	}
}

// handlerGoroutines scans a debug=2 goroutine dump for frames of fn whose
// first argument is a wanted token, and returns the goroutine ID of each.
// A frame line reads "pkg.fn(0x1a00000003, {0x..., 0x...}, ...)"; an
// argument the runtime is unsure of ends in "?" and is skipped.
func handlerGoroutines(b []byte, fn string, want map[uint64]bool) map[int64]uint64 {
	out := make(map[int64]uint64)
	prefix := []byte(fn + "(0x")
	var gid int64
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if rest, ok := bytes.CutPrefix(line, []byte("goroutine ")); ok {
			if i := bytes.IndexByte(rest, ' '); i > 0 {
				gid, _ = strconv.ParseInt(string(rest[:i]), 10, 64)
			}
			continue
		}
		rest, ok := bytes.CutPrefix(line, prefix)
		if !ok {
			continue
		}
		end := bytes.IndexAny(rest, ",)")
		if end <= 0 || rest[end-1] == '?' {
			continue
		}
		token, err := strconv.ParseUint(string(rest[:end]), 16, 64)
		if err == nil && want[token] {
			out[gid] = token
		}
	}
	return out
}

package conns

import (
	"cmp"
	"context"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/model"
)

const (
	// deadlineSampleEvery is how often the stack of a call without a
	// deadline is walked: the first call to each target, then one in
	// this many. A target's calls in between are counted against the
	// site its latest walk named: one target is nearly always called
	// from one place, and a walk costs about a microsecond.
	deadlineSampleEvery = 16
	// maxDeadlineTargets bounds the targets (kind, host or pool and
	// query) counted apart; beyond, calls share one entry per kind.
	maxDeadlineTargets = 1024
	// maxDeadlineSites bounds the call sites kept; the least recently
	// sampled goes first.
	maxDeadlineSites = 64
	// maxDeadlineQuery bounds the query text that tells SQL targets apart.
	maxDeadlineQuery = 200
)

// deadlines counts outbound calls made without a deadline, by call site.
type deadlines struct {
	mu      sync.Mutex // guards targets and sites
	targets map[deadlineTarget]*targetCount
	sites   map[deadlineSite]*siteCount
}

// deadlineTarget is what calls are counted by between two stack walks.
type deadlineTarget struct {
	kind, target, query string
}

type targetCount struct {
	site        *siteCount // the latest sampled site; nil before the first walk
	sinceSample int
}

// deadlineSite is one call site: a kind and a call stack.
type deadlineSite struct {
	kind  string
	stack [maxStack]uintptr
}

type siteCount struct {
	count  int64
	target string
	last   time.Time
}

// noDeadline counts a call of kind to target (a host, or a pool) made
// with ctx, if ctx has no deadline. pcs, when not nil, is the call's
// stack already walked by the caller; otherwise the stack is walked for
// a sample of the calls. skip is the number of frames above noDeadline's
// caller to leave out of the walk.
func (t *Tracker) noDeadline(ctx context.Context, kind, target, query string, pcs *[maxStack]uintptr, skip int) {
	if _, ok := ctx.Deadline(); ok {
		return
	}
	d := &t.deadlines
	key := deadlineTarget{kind: kind, target: target, query: truncateQuery(query)}
	d.mu.Lock()
	if d.targets == nil {
		d.targets = make(map[deadlineTarget]*targetCount)
		d.sites = make(map[deadlineSite]*siteCount)
	}
	tc := d.targets[key]
	if tc == nil {
		if len(d.targets) >= maxDeadlineTargets {
			key = deadlineTarget{kind: kind, target: "other"}
			tc = d.targets[key]
		}
		if tc == nil {
			tc = &targetCount{}
			d.targets[key] = tc
		}
	}
	if pcs == nil && tc.site != nil && tc.sinceSample < deadlineSampleEvery-1 {
		tc.sinceSample++
		tc.site.count++
		d.mu.Unlock()
		return
	}
	d.mu.Unlock()

	site := deadlineSite{kind: kind}
	if pcs != nil {
		site.stack = *pcs
	} else {
		// runtime.Callers counts itself as 0 and noDeadline as 1.
		runtime.Callers(skip+2, site.stack[:])
	}
	now := time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	sc := d.sites[site]
	if sc == nil {
		if len(d.sites) >= maxDeadlineSites {
			d.evictSiteLocked()
		}
		sc = &siteCount{}
		d.sites[site] = sc
	}
	sc.count++
	sc.target = target
	sc.last = now
	tc.site = sc
	tc.sinceSample = 0
}

// evictSiteLocked drops the site sampled least recently; targets that
// pointed at it start over with a walk.
func (d *deadlines) evictSiteLocked() {
	var oldest deadlineSite
	var at time.Time
	first := true
	for k, sc := range d.sites {
		if first || sc.last.Before(at) {
			oldest, at, first = k, sc.last, false
		}
	}
	gone := d.sites[oldest]
	delete(d.sites, oldest)
	for _, tc := range d.targets {
		if tc.site == gone {
			tc.site = nil
		}
	}
}

func truncateQuery(q string) string {
	if len(q) > maxDeadlineQuery {
		return q[:maxDeadlineQuery]
	}
	return q
}

// collectNoDeadline fills s.NoDeadline, most calls first.
func (t *Tracker) collectNoDeadline(s *model.Snapshot) {
	type pending struct {
		c     model.CallSite
		stack [maxStack]uintptr
	}
	d := &t.deadlines
	d.mu.Lock()
	out := make([]pending, 0, len(d.sites))
	for k, sc := range d.sites {
		out = append(out, pending{c: model.CallSite{Kind: k.kind, Target: sc.target, Count: sc.count, Last: sc.last}, stack: k.stack})
	}
	d.mu.Unlock()
	if len(out) == 0 {
		return
	}
	// Stacks that differ further down resolve to one site: one entry.
	s.NoDeadline = make([]model.CallSite, 0, len(out))
	at := make(map[[2]string]int, len(out))
	for _, p := range out {
		p.c.Site, p.c.Stack = t.resolve(p.stack)
		k := [2]string{p.c.Kind, p.c.Site.Site()}
		if i, ok := at[k]; ok {
			e := &s.NoDeadline[i]
			e.Count += p.c.Count
			if p.c.Last.After(e.Last) {
				e.Last, e.Target, e.Stack = p.c.Last, p.c.Target, p.c.Stack
			}
			continue
		}
		at[k] = len(s.NoDeadline)
		s.NoDeadline = append(s.NoDeadline, p.c)
	}
	slices.SortFunc(s.NoDeadline, func(a, b model.CallSite) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Site.Site(), b.Site.Site()))
	})
}

// callSite carries the stack of the user's call that made an HTTP
// request from the tracked transport's RoundTrip (on the caller's
// goroutine) to its dialer (on the transport's own dialling goroutine),
// through the request's context: http.Transport passes the request's
// context values on to DialContext.
type callSite struct {
	pcs [maxStack]uintptr
}

type callSiteKey struct{}

// withCallSite returns req with cs in its context.
func withCallSite(req *http.Request, cs *callSite) *http.Request {
	return req.WithContext(context.WithValue(req.Context(), callSiteKey{}, cs))
}

// callSiteFrom returns the call site a tracked transport put in ctx.
func callSiteFrom(ctx context.Context) *callSite {
	cs, _ := ctx.Value(callSiteKey{}).(*callSite)
	return cs
}

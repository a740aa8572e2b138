package collectors

import (
	"slices"
	"time"

	"github.com/asyncmon/asyncmon/model"
)

// load returns the request counts for Snapshot.RequestLoad; reqs are the
// requests in flight, in any order.
func (r *Requests) load(now time.Time, reqs []inflight) model.RequestLoad {
	// completed first: a request finishing between the two loads then
	// shows as in flight, never as a negative count.
	done := r.completed.Load()
	l := model.RequestLoad{StartedTotal: r.started.Load(), CompletedTotal: done}
	l.InFlight = int(l.StartedTotal - min(done, l.StartedTotal))
	for _, in := range reqs {
		l.OldestAgeSeconds = max(l.OldestAgeSeconds, now.Sub(in.started).Seconds())
	}
	return l
}

// InFlight returns the requests in flight now, oldest first, without
// stacks: what a shutdown that did not drain leaves behind.
func (r *Requests) InFlight() []model.Request {
	now := time.Now()
	var out []model.Request
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.Lock()
		for _, in := range sh.recs {
			if in.token != 0 {
				out = append(out, model.Request{Method: in.method, Path: in.path, Started: in.started,
					AgeSeconds: now.Sub(in.started).Seconds()})
			}
		}
		sh.mu.Unlock()
	}
	slices.SortFunc(out, func(a, b model.Request) int { return a.Started.Compare(b.Started) })
	return out
}

package agent

import (
	"context"
	"time"

	"github.com/asyncmon/asyncmon/model"
)

// maxUndrainedLogged bounds the requests and connections logged one by
// one; the counts cover all of them.
const maxUndrainedLogged = 20

// Undrained is what a shutdown leaves behind: the requests still in
// flight through [Agent.Middleware] and the tracked connections still
// open.
type Undrained struct {
	// Requests are the requests in flight, oldest first, without stacks.
	Requests []model.Request `json:"requests,omitempty"`
	// Conns are the open tracked connections, oldest first, bounded as in
	// snapshots; OpenByKind counts all of them.
	Conns      []model.Conn   `json:"conns,omitempty"`
	OpenByKind map[string]int `json:"open_by_kind,omitempty"`
}

// Empty reports whether nothing was left behind.
func (u Undrained) Empty() bool {
	if len(u.Requests) > 0 {
		return false
	}
	for _, n := range u.OpenByKind {
		if n > 0 {
			return false
		}
	}
	return true
}

// Undrained returns the requests still in flight and the connections
// still open, and logs them to Options.Logger: each request with its
// route and age, each connection with its kind, the line that opened it
// and its age. Call it from a shutdown hook, after the server's Shutdown
// has had its chance and before Close, to see what did not drain:
//
//	srv.Shutdown(ctx)
//	a.Undrained()
//	a.Close()
//
// Close logs the same by itself. Idle connections of a database/sql pool
// (kind "sql") are listed too, until the pool is closed.
func (a *Agent) Undrained() Undrained {
	var u Undrained
	if a.requests != nil {
		u.Requests = a.requests.InFlight()
	}
	if a.conns != nil {
		var s model.Snapshot
		if err := a.conns.Collect(context.Background(), &s); err == nil {
			u.Conns = s.Connections.Open
			u.OpenByKind = s.Connections.OpenByKind
		}
	}
	a.logUndrained(u)
	return u
}

// logUndrained logs u, a warning per item up to a bound, and a summary.
func (a *Agent) logUndrained(u Undrained) {
	if u.Empty() {
		a.log.Debug("everything drained")
		return
	}
	for i, r := range u.Requests {
		if i == maxUndrainedLogged {
			break
		}
		a.log.Warn("request did not drain", "method", r.Method, "path", r.Path,
			"age", time.Duration(r.AgeSeconds*float64(time.Second)).Round(time.Millisecond).String())
	}
	for i, c := range u.Conns {
		if i == maxUndrainedLogged {
			break
		}
		a.log.Warn("connection still open", "kind", c.Kind, "site", c.OpenSite.Site(), "func", c.OpenSite.Func,
			"remote", c.Remote, "pool", c.Pool,
			"age", time.Duration(c.AgeSeconds*float64(time.Second)).Round(time.Millisecond).String())
	}
	args := []any{"requests", len(u.Requests)}
	for _, k := range model.ConnKinds() {
		if n := u.OpenByKind[k]; n > 0 {
			args = append(args, "open_"+k, n)
		}
	}
	a.log.Warn("shutdown left work behind", args...)
}

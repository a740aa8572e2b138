// Package limits holds the agent's own health counts: the bounds it hit
// (a stream client refused, a dump rate limited, a table cut) and the API
// requests refused for their credentials. Package agent re-exports the
// names (agent.LimitNames, agent.LimitExpensive, …); the collection loop
// and the HTTP API (agent/internal/api) count into one Counters.
package limits

import (
	"sync/atomic"

	"github.com/asyncmon/asyncmon/model"
)

// The bounds counted, the keys of model.AgentStatus.LimitsHit and the
// limit label of asyncmon_limit_hits_total. Package agent documents each
// under its exported name (agent.LimitStreamClients, …).
const (
	StreamClients    = "stream_clients"
	StreamDropped    = "stream_dropped"
	Expensive        = "expensive_requests"
	DumpRate         = "dump_rate"
	CaptureRate      = "capture_rate"
	CaptureQueue     = "capture_queue"
	CaptureFailed    = "capture_failed"
	CaptureEvicted   = "capture_evicted"
	Groups           = "goroutine_groups"
	Conns            = "connections"
	Findings         = "findings"
	CollectorTimeout = "collector_timeout"
)

// Names returns the bounds counted, in a fixed order.
func Names() []string {
	return []string{
		StreamClients, StreamDropped, Expensive, DumpRate,
		CaptureRate, CaptureQueue, CaptureFailed, CaptureEvicted,
		Groups, Conns, Findings, CollectorTimeout,
	}
}

// Reasons an API request is refused for its credentials: the keys of
// model.AgentStatus.Denied and the reason label of
// asyncmon_api_denied_total.
const (
	DeniedNoToken    = "no_token"
	DeniedWrongToken = "wrong_token"
	DeniedPeer       = "peer_user"
)

// DeniedNames returns the denial reasons in a fixed order.
func DeniedNames() []string { return []string{DeniedNoToken, DeniedWrongToken, DeniedPeer} }

// Counters are the agent's own health counts. They are atomics, so any
// goroutine (handlers, the capture goroutine, the collection loop) adds
// to them without a lock.
type Counters struct {
	limits map[string]*atomic.Uint64 // fixed keys: Names
	denied map[string]*atomic.Uint64 // fixed keys: DeniedNames
	dumps  atomic.Uint64             // stop-the-world dumps taken by the API
}

// New returns zeroed counters.
func New() *Counters {
	c := &Counters{limits: map[string]*atomic.Uint64{}, denied: map[string]*atomic.Uint64{}}
	for _, n := range Names() {
		c.limits[n] = new(atomic.Uint64)
	}
	for _, n := range DeniedNames() {
		c.denied[n] = new(atomic.Uint64)
	}
	return c
}

// Hit counts one hit of the bound name, one of Names. It is a no-op on
// nil Counters, for parts tested alone.
func (c *Counters) Hit(name string) {
	if c != nil {
		c.limits[name].Add(1)
	}
}

// Hits returns how often the bound name was hit.
func (c *Counters) Hits(name string) uint64 { return c.limits[name].Load() }

// Deny counts one request refused for reason, one of DeniedNames.
func (c *Counters) Deny(reason string) { c.denied[reason].Add(1) }

// Dumped counts one stop-the-world goroutine dump taken by the API.
func (c *Counters) Dumped() { c.dumps.Add(1) }

// Dumps returns the stop-the-world goroutine dumps the API took.
func (c *Counters) Dumps() uint64 { return c.dumps.Load() }

// Status returns the counts as a snapshot section, zeros left out.
func (c *Counters) Status() model.AgentStatus {
	var st model.AgentStatus
	for _, n := range Names() {
		if v := c.limits[n].Load(); v > 0 {
			if st.LimitsHit == nil {
				st.LimitsHit = map[string]uint64{}
			}
			st.LimitsHit[n] = v
		}
	}
	for _, n := range DeniedNames() {
		if v := c.denied[n].Load(); v > 0 {
			if st.Denied == nil {
				st.Denied = map[string]uint64{}
			}
			st.Denied[n] = v
		}
	}
	st.StopTheWorldDumps = c.dumps.Load()
	return st
}

package agent

import (
	"sync/atomic"

	"github.com/asyncmon/asyncmon/model"
)

// Bounds the agent counts when it hits them, the keys of
// model.AgentStatus.LimitsHit and the limit label of
// asyncmon_limit_hits_total.
const (
	// LimitStreamClients: a stream client refused (503) because
	// maxSubscribers were open.
	LimitStreamClients = "stream_clients"
	// LimitStreamDropped: a snapshot a slow stream reader had not taken
	// yet, replaced by the newer one (never buffered).
	LimitStreamDropped = "stream_dropped"
	// LimitExpensive: a profile, trace, dump or capture request refused
	// (429) because Options.MaxExpensive were running.
	LimitExpensive = "expensive_requests"
	// LimitDumpRate: a stop-the-world goroutine dump refused (429) by
	// the per-client or overall rate limit.
	LimitDumpRate = "dump_rate"
	// LimitCaptureRate: a finding's evidence not captured because the
	// detector's capture rate limit was spent.
	LimitCaptureRate = "capture_rate"
	// LimitCaptureQueue: a finding's slow captures (profiles) dropped
	// because the capture queue was full.
	LimitCaptureQueue = "capture_queue"
	// LimitCaptureFailed: a capture that could not be written (directory
	// unwritable or full).
	LimitCaptureFailed = "capture_failed"
	// LimitCaptureEvicted: an old capture deleted to keep the directory
	// within CaptureOptions.MaxFiles and MaxBytes.
	LimitCaptureEvicted = "capture_evicted"
	// LimitGroups: a snapshot whose goroutine group table was cut to its
	// bound.
	LimitGroups = "goroutine_groups"
	// LimitConns: a snapshot whose open connection list was cut to its
	// bound.
	LimitConns = "connections"
	// LimitFindings: a finding dropped because detectors.Config.MaxActive
	// findings were active.
	LimitFindings = "findings"
	// LimitCollectorTimeout: a collector that did not return within its
	// timeout, abandoned for that collection.
	LimitCollectorTimeout = "collector_timeout"
)

// LimitNames returns the bounds the agent counts, in a fixed order.
func LimitNames() []string {
	return []string{
		LimitStreamClients, LimitStreamDropped, LimitExpensive, LimitDumpRate,
		LimitCaptureRate, LimitCaptureQueue, LimitCaptureFailed, LimitCaptureEvicted,
		LimitGroups, LimitConns, LimitFindings, LimitCollectorTimeout,
	}
}

// Reasons an API request is refused for its credentials: the keys of
// model.AgentStatus.Denied and the reason label of asyncmon_api_denied_total.
const (
	DeniedNoToken    = "no_token"
	DeniedWrongToken = "wrong_token"
	DeniedPeer       = "peer_user"
)

// deniedNames returns the denial reasons in a fixed order.
func deniedNames() []string { return []string{DeniedNoToken, DeniedWrongToken, DeniedPeer} }

// counters are the agent's own health counts. They are atomics, so any
// goroutine (handlers, the capture goroutine, the collection loop) adds
// to them without a lock.
type counters struct {
	limits map[string]*atomic.Uint64 // fixed keys: LimitNames
	denied map[string]*atomic.Uint64 // fixed keys: deniedNames
	dumps  atomic.Uint64             // stop-the-world dumps taken by the API
}

func newCounters() *counters {
	c := &counters{limits: map[string]*atomic.Uint64{}, denied: map[string]*atomic.Uint64{}}
	for _, n := range LimitNames() {
		c.limits[n] = new(atomic.Uint64)
	}
	for _, n := range deniedNames() {
		c.denied[n] = new(atomic.Uint64)
	}
	return c
}

// hit counts one hit of the bound name. It is a no-op on nil counters,
// for parts tested alone.
func (c *counters) hit(name string) {
	if c != nil {
		c.limits[name].Add(1)
	}
}

// deny counts one request refused for reason.
func (c *counters) deny(reason string) { c.denied[reason].Add(1) }

// status returns the counts as a snapshot section, zeros left out.
func (c *counters) status() model.AgentStatus {
	var st model.AgentStatus
	for _, n := range LimitNames() {
		if v := c.limits[n].Load(); v > 0 {
			if st.LimitsHit == nil {
				st.LimitsHit = map[string]uint64{}
			}
			st.LimitsHit[n] = v
		}
	}
	for _, n := range deniedNames() {
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

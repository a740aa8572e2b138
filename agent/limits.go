package agent

import "github.com/asyncmon/asyncmon/agent/internal/limits"

// Bounds the agent counts when it hits them, the keys of
// model.AgentStatus.LimitsHit and the limit label of
// asyncmon_limit_hits_total.
const (
	// LimitStreamClients ("stream_clients"): a stream client refused (503)
	// because 64 stream clients were open.
	LimitStreamClients = limits.StreamClients
	// LimitStreamDropped ("stream_dropped"): a snapshot a slow stream
	// reader had not taken yet, replaced by the newer one (never
	// buffered).
	LimitStreamDropped = limits.StreamDropped
	// LimitExpensive ("expensive_requests"): a profile, trace, dump or
	// capture request refused (429) because Options.MaxExpensive were
	// running.
	LimitExpensive = limits.Expensive
	// LimitDumpRate ("dump_rate"): a stop-the-world goroutine dump refused
	// (429) by the per-client or overall rate limit.
	LimitDumpRate = limits.DumpRate
	// LimitCaptureRate ("capture_rate"): a finding's evidence not captured
	// because the detector's capture rate limit was spent.
	LimitCaptureRate = limits.CaptureRate
	// LimitCaptureQueue ("capture_queue"): a finding's slow captures
	// (profiles) dropped because the capture queue was full.
	LimitCaptureQueue = limits.CaptureQueue
	// LimitCaptureFailed ("capture_failed"): a capture that could not be
	// written (directory unwritable or full).
	LimitCaptureFailed = limits.CaptureFailed
	// LimitCaptureEvicted ("capture_evicted"): an old capture deleted to
	// keep the directory within Options.Capture.MaxFiles and MaxBytes.
	LimitCaptureEvicted = limits.CaptureEvicted
	// LimitGroups ("goroutine_groups"): a snapshot whose goroutine group
	// table was cut to its bound.
	LimitGroups = limits.Groups
	// LimitConns ("connections"): a snapshot whose open connection list
	// was cut to its bound.
	LimitConns = limits.Conns
	// LimitFindings ("findings"): a finding dropped because
	// Options.Lifecycle.MaxActive findings were active.
	LimitFindings = limits.Findings
	// LimitCollectorTimeout ("collector_timeout"): a collector that did
	// not return within its timeout, abandoned for that collection.
	LimitCollectorTimeout = limits.CollectorTimeout
)

// LimitNames returns the bounds the agent counts, in a fixed order.
func LimitNames() []string { return limits.Names() }

// Reasons an API request is refused for its credentials: the keys of
// model.AgentStatus.Denied and the reason label of asyncmon_api_denied_total.
const (
	// DeniedNoToken ("no_token"): no bearer token where one is wanted.
	DeniedNoToken = limits.DeniedNoToken
	// DeniedWrongToken ("wrong_token"): a bearer token that does not
	// match.
	DeniedWrongToken = limits.DeniedWrongToken
	// DeniedPeer ("peer_user"): a Unix socket peer that is another user.
	DeniedPeer = limits.DeniedPeer
)

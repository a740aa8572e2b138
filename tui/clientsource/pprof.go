package clientsource

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/asyncmon/asyncmon/agent/client"
	"github.com/asyncmon/asyncmon/internal/offline"
	"github.com/asyncmon/asyncmon/model"
	"github.com/asyncmon/asyncmon/tui"
)

// pprofEvery is how often a pprof-only target is sampled.
const pprofEvery = 5 * time.Second

// pprofGoroutines is what a pprof-only target is polled for: the goroutine
// profile in protobuf form. The runtime writes it from the concurrent
// goroutine profile (a short, fixed pause) and it keeps the runtime frames
// the wait reasons are inferred from. A debug=2 dump would stop the world
// of a service that never chose to embed asyncmon for its whole walk at
// every poll (docs/goroutines.md has the figures); it also has goroutine IDs and
// wait minutes, which this mode does without.
const pprofGoroutines = "/debug/pprof/goroutine?debug=0"

// pprofRetry bounds the backoff while a pprof-only target is down.
const pprofRetry = 5 * time.Second

// probeTimeout bounds the first contact with a target, which decides
// between an agent and a plain net/http/pprof endpoint.
const probeTimeout = 3 * time.Second

// Open decides what the target behind c is and returns its source: a
// [Source] for an asyncmon agent (it answers /healthz), a [PprofSource]
// for a service that serves only net/http/pprof. A target that does not
// answer at all is treated as an agent that is down: the UI says
// "disconnected — retrying" and attaches once it is up. A target that
// answers as neither is an error.
func Open(ctx context.Context, c *client.Client) (tui.Source, error) {
	pctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	err := c.Health(pctx)
	var apiErr *client.APIError
	if err == nil || !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound {
		return New(c), nil
	}
	if _, perr := c.Download(pctx, pprofGoroutines, io.Discard); perr != nil {
		return nil, fmt.Errorf("%s is neither an asyncmon agent (/healthz: %v) nor a net/http/pprof endpoint (%v)", c.BaseURL(), err, perr)
	}
	return NewPprof(c), nil
}

// pprofUnavailable says which views a plain net/http/pprof target cannot
// feed, and why.
func pprofUnavailable() map[tui.View]string {
	return map[tui.View]string{
		tui.ViewOverview:    "pprof only: scheduler latency, probe lag and GC need the asyncmon agent; goroutines come from dumps",
		tui.ViewConnections: "pprof only: connections are tracked by the asyncmon agent, which this target does not embed",
	}
}

// PprofSource is a [tui.Source] over a service that serves only
// net/http/pprof: every 5 s it reads the goroutine profile (and the block
// and mutex profiles, when served) through the agent client, and turns
// them into snapshots and findings with internal/offline, the offline
// path `asyncmon analyze` uses too. It never asks for a stop-the-world
// dump.
type PprofSource struct {
	c      *client.Client
	series *offline.Series
	every  time.Duration
}

// NewPprof returns a source reading the net/http/pprof endpoints behind c.
func NewPprof(c *client.Client) *PprofSource {
	return &PprofSource{c: c, series: offline.NewSeries(), every: pprofEvery}
}

// profile fetches a contention profile's debug=1 text, or nil when the
// target does not serve it.
func (s *PprofSource) profile(ctx context.Context, name string) io.Reader {
	var buf bytes.Buffer
	if _, err := s.c.Download(ctx, "/debug/pprof/"+name+"?debug=1", &buf); err != nil {
		return nil
	}
	return &buf
}

// Target implements [tui.Source].
func (s *PprofSource) Target() string { return strings.TrimPrefix(s.c.BaseURL(), "http://") }

// Run implements [tui.Source]. It returns nil when ctx is done.
func (s *PprofSource) Run(ctx context.Context, emit func(tui.Update)) error {
	var (
		seq     uint64
		prev    time.Time
		backoff = time.Second
		wait    time.Duration
	)
	for {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		start := time.Now()
		var buf bytes.Buffer
		_, err := s.c.Download(ctx, pprofGoroutines, &buf)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			wait = backoff
			backoff = min(backoff*2, pprofRetry)
			emit(tui.Update{Status: &tui.Status{State: tui.StateDisconnected, Mode: "pprof only",
				Err: strings.TrimPrefix(err.Error(), "client: "), RetryAt: time.Now().Add(wait), Unavailable: pprofUnavailable()}})
			continue
		}
		backoff, wait = time.Second, s.every
		seq++
		snap := &model.Snapshot{Seq: seq, Time: start, GroupTable: model.GroupTable{GroupsTime: start}}
		if !prev.IsZero() {
			snap.IntervalSeconds = start.Sub(prev).Seconds()
		}
		prev = start
		// Contention profiles are optional: a target that never turned
		// them on serves them empty, and the view says so.
		block, mutex := s.profile(ctx, "block"), s.profile(ctx, "mutex")
		findings, note := s.series.Sample(&buf, block, mutex, snap)
		st := &tui.Status{State: tui.StateLive, Mode: "pprof only", Unavailable: pprofUnavailable(), Note: note}
		up := tui.Update{Snapshots: []*model.Snapshot{snap}, Status: st, Findings: findings, HasFindings: findings != nil}
		if findings == nil {
			st.Unavailable[tui.ViewFindings] = "pprof only: the dump detectors could not start"
		}
		emit(up)
	}
}

package main

import (
	"bytes"
	"context"
	"io"
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

// pprofUnavailable says which views a plain net/http/pprof target cannot
// feed, and why.
func pprofUnavailable() map[tui.View]string {
	return map[tui.View]string{
		tui.ViewOverview:    "pprof only: scheduler latency, probe lag and GC need the asyncmon agent; goroutines come from dumps",
		tui.ViewConnections: "pprof only: connections are tracked by the asyncmon agent, which this target does not embed",
	}
}

// pprofSource feeds the UI from a service that serves only
// net/http/pprof: every pprofEvery it reads the goroutine profile through
// the agent client, groups it with the same grouper the agent uses, and
// runs the detectors that work on dumps.
type pprofSource struct {
	c      *client.Client
	series *offline.Series
	every  time.Duration
}

func newPprofSource(c *client.Client) *pprofSource {
	return &pprofSource{c: c, series: offline.NewSeries(), every: pprofEvery}
}

// profile fetches a contention profile's debug=1 text, or nil when the
// target does not serve it.
func (s *pprofSource) profile(ctx context.Context, name string) io.Reader {
	var buf bytes.Buffer
	if _, err := s.c.Download(ctx, "/debug/pprof/"+name+"?debug=1", &buf); err != nil {
		return nil
	}
	return &buf
}

// Target implements tui.Source.
func (s *pprofSource) Target() string { return strings.TrimPrefix(s.c.BaseURL(), "http://") }

// Run implements tui.Source.
func (s *pprofSource) Run(ctx context.Context, emit func(tui.Update)) error {
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
		snap := &model.Snapshot{Seq: seq, Time: start, GroupsTime: start}
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

package clientsource

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/asyncmon/asyncmon/agent/client"
	"github.com/asyncmon/asyncmon/model"
	"github.com/asyncmon/asyncmon/tui"
)

// Reconnect backoff: the first retry comes quickly (an agent restarting
// is back within a second or two), later ones back off so a dead target
// costs nothing.
const (
	minBackoff = 250 * time.Millisecond
	maxBackoff = 5 * time.Second
	// minSilence is how long a stream may stay silent before the source
	// assumes the connection died without a word (a dropped VPN or NAT
	// entry never delivers a FIN) and reconnects; it grows to ten
	// collection intervals for agents that collect slowly.
	minSilence = 15 * time.Second
	// findingsEvery is how often the finding list is refreshed while
	// streaming: detectors run at the collection interval, and a second
	// request per snapshot would double the load on the agent.
	findingsEvery = 2 * time.Second
)

// Source is a [tui.Source] over a live asyncmon agent, read through
// agent/client: a history backfill, then the snapshot stream and the
// finding list. When the agent goes away it reports "disconnected" and
// reconnects with backoff until its context ends; it never gives up.
type Source struct {
	c *client.Client
	// minSilence is minSilence, shorter in tests.
	minSilence time.Duration
}

// New returns a source reading the agent behind c.
func New(c *client.Client) *Source {
	return &Source{c: c, minSilence: minSilence}
}

// Target implements [tui.Source].
func (s *Source) Target() string {
	return strings.TrimPrefix(s.c.BaseURL(), "http://")
}

// Run implements [tui.Source]. It returns nil when ctx is done.
func (s *Source) Run(ctx context.Context, emit func(tui.Update)) error {
	backoff := minBackoff
	var last time.Time // time of the newest snapshot seen, for backfills
	for {
		live, err := s.session(ctx, emit, &last)
		if ctx.Err() != nil {
			return nil
		}
		if live {
			backoff = minBackoff
		}
		retry := time.Now().Add(backoff)
		emit(tui.Update{Status: &tui.Status{State: tui.StateDisconnected, Mode: "agent", Err: plainError(err), RetryAt: retry}})
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		backoff = min(backoff*2, maxBackoff)
	}
}

// session backfills and streams until the connection ends. live reports
// whether data arrived.
func (s *Source) session(ctx context.Context, emit func(tui.Update), last *time.Time) (live bool, err error) {
	hist, err := s.c.History(ctx, *last)
	if err != nil {
		return false, err
	}
	status := &tui.Status{State: tui.StateLive, Mode: "agent"}
	up := tui.Update{Snapshots: hist, Status: status}
	up.Findings, up.HasFindings = s.findings(ctx, status)
	if len(hist) > 0 {
		*last = hist[len(hist)-1].Time
	}
	emit(up)
	nextFindings := time.Now().Add(findingsEvery)
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	silence := s.minSilence
	var silent atomic.Bool
	watchdog := time.AfterFunc(silence, func() {
		silent.Store(true)
		cancel()
	})
	defer watchdog.Stop()
	err = s.c.Stream(sctx, func(snap *model.Snapshot) error {
		silence = max(s.minSilence, time.Duration(10*snap.IntervalSeconds*float64(time.Second)))
		watchdog.Reset(silence)
		up := tui.Update{Snapshots: []*model.Snapshot{snap}}
		if now := time.Now(); now.After(nextFindings) {
			nextFindings = now.Add(findingsEvery)
			st := &tui.Status{State: tui.StateLive, Mode: "agent"}
			up.Findings, up.HasFindings = s.findings(ctx, st)
			up.Status = st
		}
		*last = snap.Time
		emit(up)
		return nil
	})
	if silent.Load() && ctx.Err() == nil {
		return true, fmt.Errorf("no data for %s", silence)
	}
	return true, err
}

// findings fetches the finding list; where the agent has none to give it
// marks the Findings view unavailable in st.
func (s *Source) findings(ctx context.Context, st *tui.Status) ([]model.Finding, bool) {
	fs, err := s.c.Findings(ctx, client.FindingsFilter{})
	var apiErr *client.APIError
	switch {
	case err == nil:
		return fs, true
	case errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound:
		st.Unavailable = map[tui.View]string{tui.ViewFindings: "this agent serves no findings (/api/v1/findings is missing)"}
		return nil, true
	}
	// A transient failure: keep the findings shown, the stream will tell
	// whether the agent is gone.
	return nil, false
}

// plainError shortens a client error for the status line.
func plainError(err error) string {
	if err == nil {
		return "stream ended"
	}
	switch {
	case errors.Is(err, client.ErrTokenRequired):
		return "the agent wants a token: set ASYNCMON_TOKEN or --token-file"
	case errors.Is(err, client.ErrTokenRejected):
		return "the agent refused the token: check ASYNCMON_TOKEN or --token-file"
	}
	msg := err.Error()
	for _, p := range []string{"client: ", "stream ended: "} {
		msg = strings.ReplaceAll(msg, p, "")
	}
	if i := strings.LastIndex(msg, ": "); i >= 0 && strings.Contains(msg, "dial tcp") {
		msg = msg[i+2:] // "connection refused"
	}
	return msg
}

// captureExt maps a capture format to a file extension.
func captureExt(format string) string {
	switch format {
	case "pprof":
		return ".pb.gz"
	case "text":
		return ".txt"
	case "trace":
		return ".trace"
	}
	return ".bin"
}

// SaveCapture implements [CaptureSaver]: it downloads capture id from the
// agent into dir, named asyncmon-<id><ext>, written atomically.
func (s *Source) SaveCapture(ctx context.Context, id, dir string) (string, error) {
	ext := ".bin"
	if caps, err := s.c.Captures(ctx); err == nil {
		for _, c := range caps {
			if c.ID == id {
				ext = captureExt(c.Format)
			}
		}
	}
	name := "asyncmon-" + strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == os.PathSeparator || r < ' ' {
			return '_'
		}
		return r
	}, id) + ext
	tmp, err := os.CreateTemp(dir, ".asyncmon-capture-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := s.c.Download(ctx, "/api/v1/captures/"+url.PathEscape(id), tmp); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	dst := filepath.Join(dir, name)
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", fmt.Errorf("save capture: %w", err)
	}
	return dst, nil
}

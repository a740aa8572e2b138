package clientsource

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/agent/client"
	"github.com/asyncmon/asyncmon/model"
	"github.com/asyncmon/asyncmon/tui"
	"github.com/asyncmon/asyncmon/tui/internal/fixture"
)

// fakeAgent serves the agent API from fixtures: a history, a stream that
// sends the given snapshots then hangs up, findings and one capture.
type fakeAgent struct {
	mu       sync.Mutex // guards sinces
	sinces   []string   // the since parameter of every history request
	findings bool
}

func (a *fakeAgent) handler(stream []*model.Snapshot) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/history", func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.sinces = append(a.sinces, r.URL.Query().Get("since"))
		a.mu.Unlock()
		json.NewEncoder(w).Encode([]*model.Snapshot{fixture.Snapshot(0)})
	})
	mux.HandleFunc("GET /api/v1/stream", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, s := range stream {
			data, _ := json.Marshal(s)
			fmt.Fprintf(w, "event: snapshot\ndata: %s\n\n", data)
		}
		// Then hang up, as an agent that exits does.
	})
	if a.findings {
		mux.HandleFunc("GET /api/v1/findings", func(w http.ResponseWriter, r *http.Request) {
			json.NewEncoder(w).Encode(fixture.Findings())
		})
		mux.HandleFunc("GET /api/v1/captures", func(w http.ResponseWriter, r *http.Request) {
			json.NewEncoder(w).Encode([]model.Capture{{ID: "cap-1", Kind: "goroutine", Format: "text"}})
		})
		mux.HandleFunc("GET /api/v1/captures/cap-1", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "goroutine 1 [running]:\n")
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"error":"no such endpoint"}`)
	})
	return mux
}

func TestClientSourceStreamsAndReconnects(t *testing.T) {
	fa := &fakeAgent{findings: true}
	srv := httptest.NewServer(fa.handler([]*model.Snapshot{fixture.Snapshot(1), fixture.Snapshot(2)}))
	defer srv.Close()
	c, err := client.New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	src := New(c)
	if got := src.Target(); got != strings.TrimPrefix(srv.URL, "http://") {
		t.Errorf("target %q", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var (
		seqs     []uint64
		states   []tui.ConnState
		findings []model.Finding
	)
	err = src.Run(ctx, func(u tui.Update) {
		for _, s := range u.Snapshots {
			seqs = append(seqs, s.Seq)
		}
		if u.HasFindings {
			findings = u.Findings
		}
		if u.Status != nil {
			states = append(states, u.Status.State)
			if u.Status.State == tui.StateDisconnected && len(states) >= 4 {
				cancel() // seen: live, disconnected, live again, disconnected
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []tui.ConnState{tui.StateLive, tui.StateDisconnected, tui.StateLive, tui.StateDisconnected}
	if fmt.Sprint(states[:4]) != fmt.Sprint(want) {
		t.Errorf("states %v, want %v", states, want)
	}
	if fmt.Sprint(seqs[:3]) != "[1 2 3]" {
		t.Errorf("snapshots %v, want 1 2 3 then the same after reconnecting", seqs)
	}
	if len(findings) != 2 {
		t.Errorf("got %d findings, want 2", len(findings))
	}
	fa.mu.Lock()
	defer fa.mu.Unlock()
	if len(fa.sinces) < 2 || fa.sinces[0] != "" || !strings.HasPrefix(fa.sinces[1], "2026-11-27T00:00:02") {
		t.Errorf("history requests since %q, want everything first, then since the last snapshot", fa.sinces)
	}
}

func TestClientSourceWithoutFindingsOrAgent(t *testing.T) {
	srv := httptest.NewServer((&fakeAgent{}).handler(nil))
	defer srv.Close()
	c, _ := client.New(srv.URL)
	ctx, cancel := context.WithCancel(context.Background())
	var first *tui.Status
	New(c).Run(ctx, func(u tui.Update) {
		if first == nil && u.Status != nil {
			first = u.Status
			cancel()
		}
	})
	if first == nil || first.Unavailable[tui.ViewFindings] == "" {
		t.Errorf("status %+v, want the Findings view marked unavailable", first)
	}

	// Nothing listens: disconnected, in plain words, with a retry time.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, _ = client.New(addr)
	ctx, cancel = context.WithCancel(context.Background())
	var st *tui.Status
	New(c).Run(ctx, func(u tui.Update) {
		st = u.Status
		cancel()
	})
	if st == nil || st.State != tui.StateDisconnected || st.Err != "connection refused" || st.RetryAt.IsZero() {
		t.Errorf("status %+v, want disconnected: connection refused, with a retry time", st)
	}
}

func TestClientSourceSavesCaptures(t *testing.T) {
	srv := httptest.NewServer((&fakeAgent{findings: true}).handler(nil))
	defer srv.Close()
	c, _ := client.New(srv.URL)
	dir := t.TempDir()
	p, err := New(c).SaveCapture(context.Background(), "cap-1", dir)
	if err != nil {
		t.Fatal(err)
	}
	if p != filepath.Join(dir, "asyncmon-cap-1.txt") {
		t.Errorf("saved to %s", p)
	}
	if b, err := os.ReadFile(p); err != nil || string(b) != "goroutine 1 [running]:\n" {
		t.Errorf("content %q, %v", b, err)
	}
	if _, err := New(c).SaveCapture(context.Background(), "nope", dir); err == nil {
		t.Error("saving a missing capture succeeded")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("dir holds %d files, want only the saved capture (no temporary left)", len(ents))
	}
}

// TestClientSourceReconnectsASilentStream: a stream that stops sending
// without closing (a dropped VPN never delivers a FIN) is given up after
// the silence limit.
func TestClientSourceReconnectsASilentStream(t *testing.T) {
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/history", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode([]*model.Snapshot{})
	})
	mux.HandleFunc("GET /api/v1/stream", func(w http.ResponseWriter, r *http.Request) {
		snap := fixture.Snapshot(0)
		snap.IntervalSeconds = 0.001 // so the silence limit is minSilence
		data, _ := json.Marshal(snap)
		fmt.Fprintf(w, "event: snapshot\ndata: %s\n\n", data)
		w.(http.Flusher).Flush()
		select { // then silence
		case <-r.Context().Done():
		case <-release:
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	defer close(release)
	c, _ := client.New(srv.URL)
	src := New(c)
	src.minSilence = 100 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var st *tui.Status
	src.Run(ctx, func(u tui.Update) {
		if u.Status != nil && u.Status.State == tui.StateDisconnected {
			st = u.Status
			cancel()
		}
	})
	if st == nil || !strings.Contains(st.Err, "no data for 100ms") {
		t.Errorf("status %+v, want disconnected after 100ms of silence", st)
	}
}

package client_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/agent"
	"github.com/asyncmon/asyncmon/agent/client"
	"github.com/asyncmon/asyncmon/model"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func startAgent(t *testing.T) *agent.Agent {
	t.Helper()
	a, err := agent.Start(context.Background(), agent.Options{Addr: "127.0.0.1:0", Interval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func TestNew(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{in: "127.0.0.1:7071", want: "http://127.0.0.1:7071"},
		{in: "http://h:1/prefix/", want: "http://h:1/prefix"},
		{in: "https://h", want: "https://h"},
		{in: "", wantErr: true},
		{in: "ftp://h", wantErr: true},
		{in: "http://", wantErr: true},
	}
	for _, tt := range tests {
		c, err := client.New(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("New(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if err == nil && c.BaseURL() != tt.want {
			t.Errorf("New(%q).BaseURL() = %q, want %q", tt.in, c.BaseURL(), tt.want)
		}
	}
}

func TestSnapshotHistoryStream(t *testing.T) {
	a := startAgent(t)
	c, err := client.New(a.Addr())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Health(ctx); err != nil {
		t.Fatal(err)
	}
	s, err := c.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s.Seq == 0 || s.Process.PID == 0 {
		t.Errorf("snapshot looks empty: %+v", s.Process)
	}
	var h []*model.Snapshot
	for deadline := time.Now().Add(10 * time.Second); len(h) < 2 && time.Now().Before(deadline); {
		if h, err = c.History(ctx, s.Time); err != nil {
			t.Fatal(err)
		}
	}
	if len(h) < 2 || h[0].Seq != s.Seq {
		t.Fatalf("history since the snapshot: %d entries, want >= 2 starting at %d", len(h), s.Seq)
	}

	sctx, cancel := context.WithCancel(ctx)
	var got []uint64
	err = c.Stream(sctx, func(s *model.Snapshot) error {
		got = append(got, s.Seq)
		if len(got) == 3 {
			cancel()
		}
		return nil
	})
	if err != nil {
		t.Errorf("Stream after cancel = %v, want nil", err)
	}
	if len(got) < 3 || got[2] <= got[0] {
		t.Errorf("streamed seqs %v", got)
	}
}

func TestStreamReportsDisconnect(t *testing.T) {
	a, err := agent.Start(context.Background(), agent.Options{Addr: "127.0.0.1:0", Interval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := client.New(a.Addr())
	n := 0
	err = c.Stream(context.Background(), func(*model.Snapshot) error {
		n++
		if n == 2 {
			go a.Close() // the agent goes away mid-stream
		}
		return nil
	})
	a.Close()
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("Stream after the agent closed = %v, want io.ErrUnexpectedEOF", err)
	}
}

func TestAPIErrors(t *testing.T) {
	a := startAgent(t)
	c, _ := client.New(a.Addr())
	var v any
	err := c.Get(context.Background(), "/api/v1/history?since=nonsense", &v)
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || !strings.Contains(apiErr.Message, "since") {
		t.Errorf("got %v, want a 400 APIError about since", err)
	}
}

func TestMalformedStream(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, ": hello\n\nevent: snapshot\ndata: {\"seq\": 1}\n\nevent: snapshot\ndata: {not json\n\n")
	}))
	defer srv.Close()
	c, _ := client.New(srv.URL)
	var got []uint64
	err := c.Stream(context.Background(), func(s *model.Snapshot) error {
		got = append(got, s.Seq)
		return nil
	})
	if len(got) != 1 || got[0] != 1 {
		t.Errorf("got seqs %v before the bad event, want [1]", got)
	}
	if err == nil || !strings.Contains(err.Error(), "decode stream event") {
		t.Errorf("got %v, want a decode error", err)
	}
}

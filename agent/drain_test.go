package agent_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/agent"
	"github.com/asyncmon/asyncmon/model"
)

// lockedBuffer is a log sink safe for concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestUndrained: a request still in flight and the client connection it
// holds are returned by Undrained and logged by Close, with route, age
// and the line that opened the connection.
func TestUndrained(t *testing.T) {
	var logs lockedBuffer
	a, err := agent.Start(context.Background(), agent.Options{NoListen: true, NoDetectors: true,
		NoCrash: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
	})))
	defer srv.Close()
	client := &http.Client{Transport: a.HTTPTransport(nil), Timeout: time.Minute}
	defer client.CloseIdleConnections()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := client.Get(srv.URL + "/slow/report"); err == nil { // MARK:request
			resp.Body.Close()
		}
	}()
	<-entered

	u := a.Undrained()
	if len(u.Requests) != 1 || u.Requests[0].Path != "/slow/report" || u.Requests[0].Method != "GET" {
		t.Fatalf("undrained requests = %+v", u.Requests)
	}
	if u.OpenByKind[model.ConnClient] != 1 || u.Empty() {
		t.Fatalf("undrained conns = %v", u.OpenByKind)
	}
	var client1 model.Conn
	for _, c := range u.Conns {
		if c.Kind == model.ConnClient {
			client1 = c
		}
	}
	if !strings.HasSuffix(client1.OpenSite.File, "drain_test.go") {
		t.Errorf("client connection opened at %+v, want this test's request line", client1.OpenSite)
	}
	a.Close()
	out := logs.String()
	for _, want := range []string{"request did not drain", "path=/slow/report", "connection still open", "kind=client", "drain_test.go:", "shutdown left work behind"} {
		if !strings.Contains(out, want) {
			t.Errorf("Close's log lacks %q:\n%s", want, out)
		}
	}
	close(release)
	<-done
}

package conns_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/collectors/conns"
	"github.com/asyncmon/asyncmon/model"
	"modernc.org/sqlite"
)

func noDeadline(t *testing.T, tr *conns.Tracker) []model.CallSite {
	t.Helper()
	var s model.Snapshot
	if err := tr.Collect(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	return s.NoDeadline
}

// get makes one request with ctx and reads and closes the body.
//
//go:noinline
func get(t *testing.T, ctx context.Context, client *http.Client, url string) {
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := client.Do(req) // MARK:get
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// TestHTTPCallsWithoutDeadline: requests whose context has no deadline
// are counted at the user's line; a context deadline or an http.Client
// Timeout counts as a deadline, through HTTPTransport and through
// WrapRoundTripper (net/http handles a transport it does not know
// differently).
func TestHTTPCallsWithoutDeadline(t *testing.T) {
	tr := conns.NewTracker(conns.Options{})
	srv := newServer(t, conns.NewTracker(conns.Options{}))
	defer srv.Close()
	for _, rt := range []struct {
		name string
		rt   http.RoundTripper
	}{
		{"HTTPTransport", tr.HTTPTransport(nil)},
		{"WrapRoundTripper", tr.WrapRoundTripper(http.DefaultTransport.(*http.Transport).Clone())},
	} {
		t.Run(rt.name, func(t *testing.T) {
			tr := tr
			before := int64(0)
			for _, c := range noDeadline(t, tr) {
				before += c.Count
			}
			timed := &http.Client{Transport: rt.rt, Timeout: time.Minute}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			get(t, context.Background(), timed, srv.URL)
			get(t, ctx, &http.Client{Transport: rt.rt}, srv.URL)
			if got := noDeadline(t, tr); sum(got) != before {
				t.Fatalf("calls with a deadline were counted: %+v", got)
			}
			bare := &http.Client{Transport: rt.rt}
			for range 40 {
				get(t, context.Background(), bare, srv.URL)
			}
			got := noDeadline(t, tr)
			if sum(got)-before != 40 || len(got) != 1 {
				t.Fatalf("calls without a deadline = %+v, want 40 more at one site", got)
			}
			c := got[0]
			if c.Kind != model.CallHTTP || c.Site.Line != lineOf(t, "MARK:get") || c.Target != srv.Listener.Addr().String() {
				t.Errorf("call site = %+v, want http at line %d to %s", c, lineOf(t, "MARK:get"), srv.Listener.Addr())
			}
		})
	}
}

func sum(cs []model.CallSite) (n int64) {
	for _, c := range cs {
		n += c.Count
	}
	return n
}

// dialThroughTransport makes one request on a fresh transport, so that it
// dials.
//
//go:noinline
func dialThroughTransport(t *testing.T, client *http.Client, url string) *http.Response {
	resp, err := client.Get(url) // MARK:dial
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestClientConnNamesTheRequestLine: a connection the transport dials on
// its own goroutine is attributed to the user's line that made the
// request, not to net/http's dial.
func TestClientConnNamesTheRequestLine(t *testing.T) {
	tr := conns.NewTracker(conns.Options{})
	srv := newServer(t, conns.NewTracker(conns.Options{}))
	defer srv.Close()
	client := &http.Client{Transport: tr.HTTPTransport(nil), Timeout: time.Minute}
	defer client.CloseIdleConnections()
	resp := dialThroughTransport(t, client, srv.URL)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	cs := openByKind(collect(t, tr), model.ConnClient)
	if len(cs) != 1 {
		t.Fatalf("client conns = %+v, want 1", cs)
	}
	if want := lineOf(t, "MARK:dial"); cs[0].OpenSite.Line != want || !strings.HasSuffix(cs[0].OpenSite.Func, ".dialThroughTransport") {
		t.Errorf("client conn opened at %+v, want this file's line %d", cs[0].OpenSite, want)
	}
}

// query runs one statement with ctx.
//
//go:noinline
func query(t *testing.T, ctx context.Context, db *sql.DB) {
	var n int
	if err := db.QueryRowContext(ctx, "SELECT 1").Scan(&n); err != nil { // MARK:query
		t.Fatal(err)
	}
}

// TestSQLCallsWithoutDeadline: SQL calls through a tracked connector
// whose context has no deadline are counted at the user's line, every
// one of them though only a sample of stacks is walked.
func TestSQLCallsWithoutDeadline(t *testing.T) {
	tr := conns.NewTracker(conns.Options{})
	dsn := fmt.Sprintf("file:deadline-%d?mode=memory&cache=shared", time.Now().UnixNano())
	db := tr.OpenDB("orders", tr.WrapDriver("orders", &sqlite.Driver{}, dsn))
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	query(t, ctx, db)
	if got := noDeadline(t, tr); len(got) != 0 {
		t.Fatalf("a call with a deadline was counted: %+v", got)
	}
	for range 100 {
		query(t, context.Background(), db)
	}
	if _, err := db.Exec("CREATE TABLE t (x INT)"); err != nil { // MARK:exec
		t.Fatal(err)
	}
	got := noDeadline(t, tr)
	lines := map[int]int64{}
	for _, c := range got {
		if c.Kind != model.CallSQL || c.Target != "orders" {
			t.Errorf("call site %+v, want sql on orders", c)
		}
		lines[c.Site.Line] += c.Count
	}
	if lines[lineOf(t, "MARK:query")] != 100 || lines[lineOf(t, "MARK:exec")] != 1 || len(lines) != 2 {
		t.Errorf("calls by line = %v, want 100 at the query's line and 1 at the exec's; sites %+v", lines, got)
	}
}

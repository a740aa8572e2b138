package conns_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/asyncmon/asyncmon/internal/testenv"

	"github.com/asyncmon/asyncmon/collectors/conns"
	"github.com/asyncmon/asyncmon/collectors/goroutines"
	"github.com/asyncmon/asyncmon/model"
	"go.uber.org/goleak"
)

// collect takes a snapshot of the tracker's state.
func collect(t *testing.T, tr *conns.Tracker) model.Connections {
	t.Helper()
	var s model.Snapshot
	if err := tr.Collect(context.Background(), &s); err != nil {
		t.Fatalf("Collect: %v", err)
	}
	return s.Connections
}

// waitFor polls cond, running the garbage collector between tries so that
// cleanups of unreachable wrappers run, until it holds or the deadline
// passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond) // polling interval, not a timing guess
	}
}

// lineOf returns the number of the line containing marker in the caller's
// file, so site assertions do not break when lines move.
func lineOf(t *testing.T, marker string) int {
	t.Helper()
	_, file, _, _ := runtime.Caller(1)
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(src), "\n") {
		if strings.Contains(l, marker) && !strings.Contains(l, "lineOf(") {
			return i + 1
		}
	}
	t.Fatalf("marker %q not found", marker)
	return 0
}

func findLeak(cs model.Connections, kind string) (model.Conn, bool) {
	for _, c := range cs.Leaks {
		if c.Kind == kind {
			return c, true
		}
	}
	return model.Conn{}, false
}

// leakBodies makes n requests and drops every response body unclosed.
//
//go:noinline
func leakBodies(t *testing.T, ctx context.Context, client *http.Client, url string, n int) {
	for range n {
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		resp, err := client.Do(req) // MARK:leak-body
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
}

// healthyBodies makes n requests and reads and closes every body.
//
//go:noinline
func healthyBodies(t *testing.T, client *http.Client, url string, n int) {
	for range n {
		resp, err := client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
}

// drainedBodies reads bodies to the end but never calls Close: the
// transport returns the connection to its pool by itself, so it is no
// leak.
//
//go:noinline
func drainedBodies(t *testing.T, client *http.Client, url string, n int) {
	for range n {
		resp, err := client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(resp.Body); err != nil {
			t.Fatal(err)
		}
	}
}

func newServer(t *testing.T, tr *conns.Tracker) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello, body\n")
	}))
	srv.Listener = tr.WrapListener(srv.Listener)
	srv.Start()
	return srv
}

func TestHTTPBodyLeaks(t *testing.T) {
	// Joins the goroutines the test started (transport loops wind down
	// after Close), so later tests count goroutines undisturbed.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	defer testenv.SettleFinalizers(t)
	tr := conns.NewTracker(conns.Options{})
	srv := newServer(t, tr)
	defer srv.Close()
	client := &http.Client{Transport: tr.HTTPTransport(nil)}
	defer client.CloseIdleConnections()
	// Cancelling ctx at the end lets the transport close the pinned
	// connections of the leaked bodies, so no goroutine outlives the test.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	healthyBodies(t, client, srv.URL, 5)
	drainedBodies(t, client, srv.URL, 5)
	const leaks = 3
	leakBodies(t, ctx, client, srv.URL, leaks)

	waitFor(t, "3 definite body leaks", func() bool { return tr.LeakedCount(model.ConnHTTPBody) == leaks })
	cs := collect(t, tr)
	if got := len(cs.Leaks); got != 1 {
		t.Fatalf("got %d leak sites, want 1: %+v", got, cs.Leaks)
	}
	leak := cs.Leaks[0]
	if leak.Kind != model.ConnHTTPBody || !leak.Leaked || leak.LeakedAt.IsZero() {
		t.Errorf("leak = %+v, want a leaked http-body with LeakedAt", leak)
	}
	if got, want := leak.SiteLeaksTotal, int64(leaks); got != want {
		t.Errorf("SiteLeaksTotal = %d, want %d", got, want)
	}
	wantLine := lineOf(t, "MARK:leak-body")
	if !strings.HasSuffix(leak.OpenSite.Func, ".leakBodies") || filepath.Base(leak.OpenSite.File) != "conns_test.go" || leak.OpenSite.Line != wantLine {
		t.Errorf("open site = %+v, want leakBodies at conns_test.go:%d", leak.OpenSite, wantLine)
	}
	if len(leak.OpenStack) < 2 {
		t.Errorf("open stack has %d frames, want the bounded stack", len(leak.OpenStack))
	}
	if leak.Remote != strings.TrimPrefix(srv.URL, "http://") {
		t.Errorf("remote = %q, want %q", leak.Remote, srv.URL)
	}
	if got := cs.LeakedTotal[model.ConnHTTPBody]; got != leaks {
		t.Errorf("LeakedTotal[http-body] = %d, want %d", got, leaks)
	}
	// Closed and drained bodies, idle keep-alive connections on both ends:
	// open or gone, never leaked.
	for _, k := range []string{model.ConnClient, model.ConnServer} {
		if n := tr.LeakedCount(k); n != 0 {
			t.Errorf("LeakedCount(%s) = %d, want 0", k, n)
		}
	}
	if n := cs.OpenByKind[model.ConnHTTPBody]; n != 0 {
		t.Errorf("open http bodies = %d, want 0 (closed, drained or leaked)", n)
	}
	if cs.OpenByKind[model.ConnClient] < 1 || cs.OpenByKind[model.ConnServer] < 1 {
		t.Errorf("open by kind = %v, want keep-alive client and server connections", cs.OpenByKind)
	}

	// Everything closes: the tracker ends with nothing open.
	cancel()
	client.CloseIdleConnections()
	srv.Close()
	waitFor(t, "all connections closed", func() bool {
		client.CloseIdleConnections()
		return tr.OpenCount(model.ConnClient) == 0 && tr.OpenCount(model.ConnServer) == 0
	})
}

// keepingTransport is a RoundTripper that keeps every *http.Response it
// returned reachable, as Go 1.27's http.Transport does from its read loop
// while the body is open (and as any recording middleware would).
type keepingTransport struct {
	rt   http.RoundTripper
	mu   sync.Mutex
	kept []*http.Response
}

func (k *keepingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := k.rt.RoundTrip(req)
	if resp != nil {
		k.mu.Lock()
		k.kept = append(k.kept, resp)
		k.mu.Unlock()
	}
	return resp, err
}

// TestHTTPBodyLeakBaseKeepsResponse drops bodies whose wrapped transport
// keeps its *http.Response: the dropped tracked body must still be seen
// to become unreachable. It failed when the tracked body was put into the
// transport's own Response (on Go 1.27 even the plain http.Transport
// keeps it).
func TestHTTPBodyLeakBaseKeepsResponse(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	defer testenv.SettleFinalizers(t)
	tr := conns.NewTracker(conns.Options{})
	srv := newServer(t, tr)
	defer srv.Close()
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	keep := &keepingTransport{rt: base}
	client := &http.Client{Transport: tr.WrapRoundTripper(keep)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	const leaks = 2
	leakBodies(t, ctx, client, srv.URL, leaks)
	waitFor(t, "2 definite body leaks", func() bool { return tr.LeakedCount(model.ConnHTTPBody) == leaks })
	keep.mu.Lock()
	if len(keep.kept) != leaks {
		t.Errorf("the base transport kept %d responses, want %d", len(keep.kept), leaks)
	}
	for _, r := range keep.kept {
		r.Body.Close() // the real bodies, which the transport still reaches
	}
	keep.mu.Unlock()
	cancel()
	srv.Close()
}

// dialAndDrop dials addr and drops the connection without closing it.
//
//go:noinline
func dialAndDrop(t *testing.T, dial conns.DialFunc, addr string) {
	c, err := dial(context.Background(), "tcp", addr) // MARK:dial-drop
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
}

func TestConnWrappers(t *testing.T) {
	// Joins the goroutines the test started (transport loops wind down
	// after Close), so later tests count goroutines undisturbed.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	defer testenv.SettleFinalizers(t)
	tr := conns.NewTracker(conns.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	wl := tr.WrapListener(ln)
	defer wl.Close()
	dial := tr.WrapDialer(nil)

	accepted := make(chan net.Conn, 2)
	acceptErr := make(chan error, 1)
	go func() {
		for range 2 {
			c, err := wl.Accept()
			if err != nil {
				acceptErr <- err
				return
			}
			accepted <- c
		}
		acceptErr <- nil
	}()

	c, err := dial(context.Background(), "tcp", ln.Addr().String()) // MARK:dial-keep
	if err != nil {
		t.Fatal(err)
	}
	sc := <-accepted
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	if _, err := io.ReadFull(sc, buf[:5]); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.Write([]byte("hi")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, buf[:2]); err != nil {
		t.Fatal(err)
	}

	cs := collect(t, tr)
	if cs.OpenTotal != 2 || cs.OpenByKind[model.ConnClient] != 1 || cs.OpenByKind[model.ConnServer] != 1 {
		t.Fatalf("open = %d by kind %v, want one client and one server", cs.OpenTotal, cs.OpenByKind)
	}
	byKind := map[string]model.Conn{}
	for _, oc := range cs.Open {
		byKind[oc.Kind] = oc
	}
	cl, sv := byKind[model.ConnClient], byKind[model.ConnServer]
	if cl.BytesOut != 5 || cl.BytesIn != 2 || sv.BytesIn != 5 || sv.BytesOut != 2 {
		t.Errorf("bytes client out/in %d/%d server in/out %d/%d, want 5/2 and 5/2", cl.BytesOut, cl.BytesIn, sv.BytesIn, sv.BytesOut)
	}
	if cl.Remote != ln.Addr().String() || sv.Local != ln.Addr().String() || cl.Local != sv.Remote {
		t.Errorf("addresses client %s→%s server %s←%s do not match the listener %s", cl.Local, cl.Remote, sv.Local, sv.Remote, ln.Addr())
	}
	if want := lineOf(t, "MARK:dial-keep"); cl.OpenSite.Line != want || !strings.HasSuffix(cl.OpenSite.Func, ".TestConnWrappers") {
		t.Errorf("client open site = %+v, want TestConnWrappers line %d", cl.OpenSite, want)
	}
	if cl.LastIO.Before(cl.Opened) || cl.AgeSeconds < 0 || cl.IdleSeconds < 0 {
		t.Errorf("times: %+v", cl)
	}

	// A dialled connection dropped without Close is a definite leak at
	// its dial site; the server end stays open and is no leak.
	dialAndDrop(t, dial, ln.Addr().String())
	sc2 := <-accepted
	if err := <-acceptErr; err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the dropped client conn to be found leaked", func() bool { return tr.LeakedCount(model.ConnClient) == 1 })
	leak, ok := findLeak(collect(t, tr), model.ConnClient)
	if want := lineOf(t, "MARK:dial-drop"); !ok || leak.OpenSite.Line != want || leak.BytesOut != 1 {
		t.Errorf("leak = %+v, want the dialAndDrop site (line %d) with 1 byte out", leak, want)
	}

	for _, x := range []net.Conn{c, sc, sc2} {
		if err := x.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// Close twice is harmless and counts once.
	c.Close()
	cs = collect(t, tr)
	if cs.OpenTotal != 0 || len(cs.Open) != 0 {
		t.Errorf("after close: %d open (%v)", cs.OpenTotal, cs.Open)
	}
	if n := tr.LeakedCount(model.ConnServer); n != 0 {
		t.Errorf("server leaks = %d, want 0", n)
	}
}

func TestCollectBoundsOpenList(t *testing.T) {
	// 8 listed at most, 2 per kind: 20 client connections opened first
	// cannot hide the two server ones opened last.
	tr := conns.NewTracker(conns.Options{MaxReported: 8})
	var conns []net.Conn
	for i := range 22 {
		a, b := net.Pipe()
		kind := model.ConnClient
		if i >= 20 {
			kind = model.ConnServer
		}
		conns = append(conns, tr.WrapConn(a, kind), b)
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	cs := collect(t, tr)
	if len(cs.Open) != 4 || cs.OpenTotal != 22 || !cs.Truncated {
		t.Fatalf("open list %d of %d truncated=%v, want 4 of 22 truncated", len(cs.Open), cs.OpenTotal, cs.Truncated)
	}
	if cs.Open[2].Kind != model.ConnServer || cs.Open[3].Kind != model.ConnServer {
		t.Errorf("kinds listed: %s %s %s %s, want two clients then two servers", cs.Open[0].Kind, cs.Open[1].Kind, cs.Open[2].Kind, cs.Open[3].Kind)
	}
	for i := 1; i < len(cs.Open); i++ {
		if cs.Open[i].ID <= cs.Open[i-1].ID {
			t.Errorf("open list not oldest first: %d before %d", cs.Open[i-1].ID, cs.Open[i].ID)
		}
	}
}

// TestHTTPBodyGroup: an open response body is held by a Transport read
// loop parked in select; with the group table in the snapshot, the body
// names that group.
func TestHTTPBodyGroup(t *testing.T) {
	// Joins the goroutines the test started (transport loops wind down
	// after Close), so later tests count goroutines undisturbed.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	tr := conns.NewTracker(conns.Options{})
	srv := newServer(t, tr)
	defer srv.Close()
	client := &http.Client{Transport: tr.HTTPTransport(nil)}
	defer client.CloseIdleConnections()
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()

	groups := goroutines.NewCollector(goroutines.Options{MinInterval: time.Millisecond, CPUBudget: 1})
	var s model.Snapshot
	var body model.Conn
	// The read loop parks in select soon after the response arrives; a
	// dump taken while it still runs on the other core has no stack for
	// it. Poll until it is parked.
	for deadline := time.Now().Add(5 * time.Second); ; {
		s = model.Snapshot{}
		if err := groups.Collect(context.Background(), &s); err != nil {
			t.Fatal(err)
		}
		if err := tr.Collect(context.Background(), &s); err != nil {
			t.Fatal(err)
		}
		for _, c := range s.Connections.Open {
			if c.Kind == model.ConnHTTPBody {
				body = c
			}
		}
		if body.Group != "" || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if body.Group == "" {
		t.Fatalf("open body has no group; groups: %d", len(s.Groups))
	}
	for _, g := range s.Groups {
		if g.Key == body.Group {
			if g.WaitReason != model.WaitSelect || !strings.Contains(fmt.Sprint(g.TopFrames, g.Stack), "persistConn).readLoop") {
				t.Errorf("body group %q is %s at %v, want the read loop in select", g.Key, g.WaitReason, g.TopFrames)
			}
			return
		}
	}
	t.Errorf("body group %q not in the table", body.Group)
}

// TestIdleIsAtCollectionResolution: reads and writes stamp the coarse
// clock that each Collect advances, so LastIO is the latest collection
// before the last I/O (or the opening, if later): idle may read up to one
// collection interval more than the truth, never less, and a connection
// with no I/O keeps its LastIO.
func TestIdleIsAtCollectionResolution(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := conns.NewTracker(conns.Options{})
		opened := time.Now()
		c := tr.WrapConn(nopConn{}, model.ConnClient)
		defer c.Close()
		lastIO := func() time.Time {
			t.Helper()
			cs := collect(t, tr)
			if len(cs.Open) != 1 {
				t.Fatalf("got %d open connections, want 1", len(cs.Open))
			}
			return cs.Open[0].LastIO
		}

		time.Sleep(10 * time.Second)
		c.Write([]byte("x")) // before any collection: the opening time stays
		if got := lastIO(); !got.Equal(opened) {
			t.Errorf("I/O before the first collection: LastIO %v after opening, want the opening time", got.Sub(opened))
		}
		t1 := time.Now() // the collection just taken
		time.Sleep(3 * time.Second)
		c.Read(make([]byte, 1))
		time.Sleep(2 * time.Second)
		if got := lastIO(); !got.Equal(t1) {
			t.Errorf("I/O after a collection: LastIO %v after opening, want that collection's %v", got.Sub(opened), t1.Sub(opened))
		}
		time.Sleep(4 * time.Second)
		if got := lastIO(); !got.Equal(t1) {
			t.Errorf("no I/O: LastIO moved to %v after opening, want %v", got.Sub(opened), t1.Sub(opened))
		}
	})
}

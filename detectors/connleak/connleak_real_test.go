package connleak_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/collectors/conns"
	"github.com/asyncmon/asyncmon/collectors/goroutines"
	"github.com/asyncmon/asyncmon/detectors/connleak"
	"github.com/asyncmon/asyncmon/model"
)

// TestConnLeakParkedReadLoops leaks response bodies through a transport
// asyncmon does not wrap: the only trace is one http.Transport read loop
// per body, parked in select, which the live goroutine collector sees.
func TestConnLeakParkedReadLoops(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "body that nobody reads")
	}))
	defer srv.Close()
	tr := &http.Transport{MaxConnsPerHost: 0}
	client := &http.Client{Transport: tr}
	defer tr.CloseIdleConnections()
	// Cancelling ctx at the end lets the transport close the pinned
	// connections, so no goroutine outlives the test.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	groups := goroutines.NewCollector(goroutines.Options{MinInterval: time.Millisecond, CPUBudget: 1})
	snap := func(at time.Time) *model.Snapshot {
		s := &model.Snapshot{Time: at}
		if err := groups.Collect(context.Background(), s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	t0 := time.Now()
	w := model.Window{Snapshots: []*model.Snapshot{snap(t0)}}

	const leaked = 30
	var bodies []io.ReadCloser // held, so the test controls when they go
	for range leaked {
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, resp.Body)
	}
	det := connleak.New(connleak.Config{ReadLoopMin: 20})
	var got model.Finding
	deadline := time.Now().Add(10 * time.Second)
	// The finding fires from ReadLoopMin parked loops on; the last read
	// loops may park a moment later, so poll until the count has them all.
	for i := 1; got.ID == "" || got.Evidence.Numbers["parked_read_loops"] < leaked; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("no readloops finding counting %d parked loops within 10s (last: %v)", leaked, got.Evidence.Numbers["parked_read_loops"])
		}
		w.Snapshots = append(w.Snapshots, snap(t0.Add(time.Duration(i)*time.Second)))
		for _, f := range det.Detect(w) {
			if f.ID == "conn-leak:readloops" {
				got = f
			}
		}
		time.Sleep(10 * time.Millisecond) // polling interval
	}
	if n := got.Evidence.Numbers["parked_read_loops"]; n < leaked {
		t.Errorf("parked read loops = %v, want at least %d", n, leaked)
	}
	if got.Subject != "net/http.(*persistConn).readLoop" || got.Level != model.LevelWarning {
		t.Errorf("finding subject %q level %s", got.Subject, got.Level)
	}

	// Closed bodies: the read loops go back to waiting for the next
	// response in I/O, and the condition no longer holds.
	for _, b := range bodies {
		b.Close()
	}
	deadline = time.Now().Add(10 * time.Second)
	for i := 100; ; i++ {
		if time.Now().After(deadline) {
			t.Fatal("readloops finding still reported after the bodies were closed")
		}
		w.Snapshots = append(w.Snapshots, snap(t0.Add(time.Duration(i)*time.Second)))
		still := false
		for _, f := range det.Detect(w) {
			still = still || f.ID == "conn-leak:readloops"
		}
		if !still {
			break
		}
		time.Sleep(10 * time.Millisecond) // polling interval
	}
}

// fetchAndForget requests url and drops the response without closing its
// body: the bug.
//
//go:noinline
func fetchAndForget(ctx context.Context, t *testing.T, client *http.Client, url string) {
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := client.Do(req) // MARK:http-forget
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

// fetchAndClose is the healthy path.
//
//go:noinline
func fetchAndClose(t *testing.T, client *http.Client, url string) {
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatal(err)
	}
}

// TestConnLeakHTTPBodies: against a real loopback server, through the
// tracked transport, dropped bodies become one definite-leak finding at
// their line once the GC has run; closed bodies and the idle keep-alive
// connections they leave behind raise nothing.
func TestConnLeakHTTPBodies(t *testing.T) {
	tr := conns.NewTracker(conns.Options{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello")
	}))
	srv.Listener = tr.WrapListener(srv.Listener)
	srv.Start()
	defer srv.Close()
	client := &http.Client{Transport: tr.HTTPTransport(nil)}
	defer client.CloseIdleConnections()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	det := connleak.New(connleak.Config{})
	snapAt := func(i int) *model.Snapshot { return snap(t, tr, time.Unix(int64(1e9+i), 0)) }

	var w model.Window
	for i := range 3 {
		fetchAndClose(t, client, srv.URL)
		runtime.GC()
		w.Snapshots = append(w.Snapshots, snapAt(i))
	}
	if fs := det.Detect(w); len(fs) != 0 {
		t.Fatalf("healthy requests: %v", fs)
	}

	for range 5 {
		fetchAndForget(ctx, t, client, srv.URL)
	}
	deadline := time.Now().Add(10 * time.Second)
	for tr.LeakedCount(model.ConnHTTPBody) < 5 {
		if time.Now().After(deadline) {
			t.Fatalf("definite leaks: %d, want 5", tr.LeakedCount(model.ConnHTTPBody))
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond) // polling interval
	}
	// The snapshots' times are synthetic; the leak times are real: stamp
	// the last one now.
	last := snap(t, tr, time.Now())
	w.Snapshots = append(w.Snapshots, last)
	fs := det.Detect(w)
	if len(fs) != 1 {
		t.Fatalf("got %d findings, want the one leak: %v", len(fs), fs)
	}
	f := fs[0]
	want := "connleak_real_test.go:" + strconv.Itoa(pgLine(t, "MARK:http-forget"))
	if !strings.HasPrefix(f.ID, "conn-leak:leak:http-body:") || !strings.HasSuffix(f.Subject, want) ||
		!strings.Contains(f.Summary, "fetchAndForget") || f.Evidence.Numbers["site_leaks_total"] != 5 {
		t.Errorf("finding %s subject %q numbers %v, want a leak at %s: %s", f.ID, f.Subject, f.Evidence.Numbers, want, f.Summary)
	}
}

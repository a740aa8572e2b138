package detectors_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/collectors"
	"github.com/asyncmon/asyncmon/detectors"
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

	groups := collectors.NewGoroutines(collectors.GoroutinesOptions{MinInterval: time.Millisecond, CPUBudget: 1})
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
	det := detectors.NewConnLeak(detectors.ConnLeakConfig{ReadLoopMin: 20})
	var got model.Finding
	deadline := time.Now().Add(10 * time.Second)
	for i := 1; got.ID == ""; i++ {
		if time.Now().After(deadline) {
			t.Fatal("no readloops finding within 10s")
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

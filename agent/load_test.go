package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/agent/client"
	"github.com/asyncmon/asyncmon/agent/internal/api"
	"github.com/asyncmon/asyncmon/model"
)

// TestLoadManyClientsOverManyGoroutines puts 220 concurrent clients (100
// stream clients, 120 polling the JSON and metrics endpoints) on
// an agent watching 100k parked goroutines, for a fixed number of
// collections (no wall-clock assertion). Collection goes on; nothing is
// lost from the history; the stream takes api.MaxSubscribers clients and
// refuses the others with 503, counted; no request fails otherwise; each
// stream sees snapshots in order; the agent's heap stays bounded.
func TestLoadManyClientsOverManyGoroutines(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the load test parks 100k goroutines")
	}
	const (
		parked      = 100_000
		streamers   = 100
		pollers     = 120
		collections = 20
		// heapBound is the heap growth allowed while serving: a
		// history of a few dozen snapshots with a one-group table, 64
		// stream mailboxes and 220 connections' buffers need far less.
		heapBound = 128 << 20
	)
	t0 := time.Now()
	release := make(chan struct{})
	var park sync.WaitGroup
	for range parked {
		park.Go(func() { <-release })
	}
	defer func() { close(release); park.Wait() }()

	heapBefore := liveHeap()
	t.Logf("phase: parked in %s", time.Since(t0))
	a := start(t, Options{Interval: 100 * time.Millisecond, NoCapture: true})
	first := a.Latest().Seq
	addr := a.Addr()

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var (
		wg               sync.WaitGroup
		streaming        atomic.Int32
		refused          atomic.Int32
		requests, failed atomic.Int64
		mu               sync.Mutex // guards failures
		failures         []string
	)
	fail := func(format string, args ...any) {
		failed.Add(1)
		mu.Lock()
		if len(failures) < 10 {
			failures = append(failures, fmt.Sprintf(format, args...))
		}
		mu.Unlock()
	}
	for i := range streamers {
		wg.Go(func() {
			c, _ := client.New(addr)
			var last uint64
			got := false
			err := c.Stream(ctx, func(s *model.Snapshot) error {
				if !got {
					got = true
					streaming.Add(1)
				}
				if s.Seq <= last {
					fail("stream %d: seq %d after %d", i, s.Seq, last)
				}
				last = s.Seq
				return nil
			})
			var ae *client.APIError
			switch {
			case err == nil:
			case errors.As(err, &ae) && ae.StatusCode == http.StatusServiceUnavailable:
				refused.Add(1)
			default:
				fail("stream %d: %v", i, err)
			}
		})
	}
	// The UI's and scripts' endpoints; /metrics is what a handful of
	// scrapers read, not every client.
	paths := []string{
		"/api/v1/snapshot", "/api/v1/history?limit=5", "/api/v1/goroutines?limit=10",
		"/api/v1/connections?limit=5", "/api/v1/findings", "/healthz",
	}
	const scrapers = 5
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: pollers}}
	defer hc.CloseIdleConnections()
	for i := range pollers {
		wg.Go(func() {
			for n := i; ctx.Err() == nil; n++ {
				path := paths[n%len(paths)]
				if i < scrapers {
					path = "/metrics"
				}
				req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+path, nil)
				resp, err := hc.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						fail("poller %d: %v", i, err)
					}
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				requests.Add(1)
				if resp.StatusCode != http.StatusOK {
					fail("poller %d: %s: %d", i, path, resp.StatusCode)
				}
			}
		})
	}
	// Collection goes on under load; a generous deadline only stops a
	// hang from running forever.
	deadline := time.Now().Add(3 * time.Minute)
	for a.Latest().Seq < first+collections && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if s := a.Latest().Seq; s < first+collections {
		t.Fatalf("collection stalled under load: %d collections, want %d", s-first, collections)
	}
	t.Logf("phase: loaded at %s", time.Since(t0))
	stop()
	wg.Wait()
	t.Logf("phase: clients done at %s", time.Since(t0))
	heapLoaded := liveHeap() // what the agent keeps once served

	if n := streaming.Load(); n != api.MaxSubscribers {
		t.Errorf("%d streams served, want the bound %d", n, api.MaxSubscribers)
	}
	if n := refused.Load(); n != streamers-api.MaxSubscribers {
		t.Errorf("%d streams refused, want %d", n, streamers-api.MaxSubscribers)
	}
	if n := a.status().LimitsHit[LimitStreamClients]; n != uint64(streamers-api.MaxSubscribers) {
		t.Errorf("stream refusals counted %d, want %d", n, streamers-api.MaxSubscribers)
	}
	if failed.Load() > 0 {
		t.Errorf("%d of %d requests failed: %v", failed.Load(), requests.Load(), failures)
	}
	snaps := a.Window(0).Snapshots
	for i := 1; i < len(snaps); i++ {
		if snaps[i].Seq != snaps[i-1].Seq+1 {
			t.Fatalf("history lost snapshots: seq %d follows %d", snaps[i].Seq, snaps[i-1].Seq)
		}
	}
	if snaps[0].Seq != 1 {
		t.Errorf("history starts at seq %d, want 1 (the ring holds far more)", snaps[0].Seq)
	}
	if g := snaps[len(snaps)-1].Goroutines.Total; g < parked {
		t.Errorf("agent sees %d goroutines, want at least %d", g, parked)
	}
	if grow := int64(heapLoaded) - int64(heapBefore); grow > heapBound {
		t.Errorf("heap grew %d MiB after the load, want under %d MiB", grow>>20, heapBound>>20)
	}
	t.Logf("%d requests, %d collections; heap %d MiB before the agent, %d MiB after the load",
		requests.Load(), a.Latest().Seq, heapBefore>>20, heapLoaded>>20)
}

// liveHeap returns the live heap after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

package collectors

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/model"
)

// TestRequestsDumpIsRateLimited: requests that turn old one after the
// other must not trigger a goroutine dump (a stop-the-world) at every
// collection; the later ones wait for the next allowed dump.
func TestRequestsDumpIsRateLimited(t *testing.T) {
	r := NewRequests(RequestsOptions{StackAfter: time.Millisecond, StackEvery: time.Hour})
	release := make(chan struct{})
	srv := httptest.NewServer(r.Middleware(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		<-release
	})))
	defer srv.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(release)

	collect := func(want int) model.Snapshot {
		t.Helper()
		var s model.Snapshot
		for deadline := time.Now().Add(10 * time.Second); ; {
			s = model.Snapshot{}
			if err := r.Collect(context.Background(), &s); err != nil {
				t.Fatal(err)
			}
			old := len(s.Requests) >= want && s.Requests[want-1].AgeSeconds >= 0.001
			if old || time.Now().After(deadline) {
				return s
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	get := func() {
		wg.Go(func() {
			if resp, err := http.Get(srv.URL + "/slow"); err == nil {
				resp.Body.Close()
			}
		})
	}

	// collect polls until want requests are in flight and old enough
	// (StackAfter is 1 ms) to need a stack.
	get()
	s := collect(1)
	if len(s.Requests) != 1 || len(s.Requests[0].Stack) == 0 {
		t.Fatalf("first stuck request: %+v; want 1 request with a stack", s.Requests)
	}
	get()
	s = collect(2)
	if len(s.Requests) != 2 {
		t.Fatalf("got %d requests, want 2", len(s.Requests))
	}
	if r.dumps != 1 {
		t.Errorf("took %d goroutine dumps within StackEvery, want 1", r.dumps)
	}
	if len(s.Requests[0].Stack) == 0 || len(s.Requests[1].Stack) != 0 {
		t.Errorf("stacks: first %d frames, second %d; want the first kept and the second deferred to the next dump",
			len(s.Requests[0].Stack), len(s.Requests[1].Stack))
	}
}

package collectors

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
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

// TestRequestsStuckHandlerIsFound: the handler goroutine of an old
// request is found in the dump by its token, with its ID and a stack
// that reaches the handler's own code; young requests carry neither.
func TestRequestsStuckHandlerIsFound(t *testing.T) {
	r := NewRequests(RequestsOptions{StackAfter: time.Hour, StackEvery: time.Nanosecond})
	release := make(chan struct{})
	started := make(chan struct{}, 2)
	h := r.Middleware(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		started <- struct{}{}
		<-release
	}))
	var wg sync.WaitGroup
	for _, p := range []string{"/a", "/b"} {
		wg.Go(func() { h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil)) })
	}
	defer wg.Wait()
	defer close(release)
	<-started
	<-started

	var s model.Snapshot
	if err := r.Collect(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Requests) != 2 {
		t.Fatalf("got %d requests, want 2", len(s.Requests))
	}
	for _, q := range s.Requests {
		if q.GoroutineID != 0 || len(q.Stack) != 0 {
			t.Errorf("young request %s has goroutine %d and %d frames; want neither", q.Path, q.GoroutineID, len(q.Stack))
		}
	}

	r.opts.StackAfter = time.Nanosecond
	s = model.Snapshot{}
	if err := r.Collect(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	gids := map[int64]bool{}
	for _, q := range s.Requests {
		if q.GoroutineID <= 0 {
			t.Errorf("old request %s: goroutine ID %d, want the handler's", q.Path, q.GoroutineID)
		}
		gids[q.GoroutineID] = true
		found := false
		for _, f := range q.Stack {
			if strings.Contains(f.Func, "TestRequestsStuckHandlerIsFound") {
				found = true
			}
		}
		if !found {
			t.Errorf("old request %s: stack %v does not reach the handler", q.Path, q.Stack)
		}
	}
	if len(gids) != 2 {
		t.Errorf("two requests on two goroutines got goroutine IDs %v", gids)
	}
}

// TestRequestsPanickingHandlerIsRemoved: a handler that panics (net/http
// recovers it) must not leave its request in flight forever.
func TestRequestsPanickingHandlerIsRemoved(t *testing.T) {
	r := NewRequests(RequestsOptions{})
	h := r.Middleware(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		panic(http.ErrAbortHandler)
	}))
	func() {
		defer func() { _ = recover() }()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/p", nil))
	}()
	var s model.Snapshot
	if err := r.Collect(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Requests) != 0 {
		t.Errorf("after a panicking handler: %d requests in flight, want 0", len(s.Requests))
	}
}

// TestHandlerGoroutinesSkipsUnsureArguments: a token the runtime prints as
// unsure ("0x…?") is not trusted.
func TestHandlerGoroutinesSkipsUnsureArguments(t *testing.T) {
	d := "goroutine 7 [chan receive]:\npkg.serve(0x100000001, {0x1, 0x2})\n\ngoroutine 9 [select]:\npkg.serve(0x100000002?, {0x1, 0x2})\n"
	got := handlerGoroutines([]byte(d), "pkg.serve", map[uint64]bool{0x100000001: true, 0x100000002: true})
	if len(got) != 1 || got[7] != 0x100000001 {
		t.Errorf("got %v, want only goroutine 7", got)
	}
}

// BenchmarkMiddleware compares a bare handler with the same handler behind
// the middleware, called in parallel on every P (no network: the
// middleware's own cost).
func BenchmarkMiddleware(b *testing.B) {
	bare := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {})
	r := NewRequests(RequestsOptions{})
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{{"bare", bare}, {"middleware", r.Middleware(bare)}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				req := httptest.NewRequest("GET", "/api/items", nil)
				w := httptest.NewRecorder()
				for pb.Next() {
					bc.h.ServeHTTP(w, req)
				}
			})
		})
	}
}

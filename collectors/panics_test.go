package collectors

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/asyncmon/asyncmon/model"
)

// panickingHandler panics on /boom and aborts on /abort.
func panickingHandler(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/boom":
		var m map[string]int
		//lint:ignore SA5000 the handler panics on purpose
		m["x"] = 1 // the handler panics here
	case "/abort":
		panic(http.ErrAbortHandler)
	}
	io.WriteString(w, "ok")
}

func lineOf(t *testing.T, marker string) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, marker) && !strings.Contains(l, "lineOf(") {
			return file + ":" + strconv.Itoa(i+1)
		}
	}
	t.Fatalf("no line with %q", marker)
	return ""
}

// TestHandlerPanicsAreCountedAndPassedOn: the middleware counts a handler
// panic at the handler's line, with its route and value, and net/http
// still sees the panic (it logs it and closes the connection);
// http.ErrAbortHandler is not counted.
func TestHandlerPanicsAreCountedAndPassedOn(t *testing.T) {
	p := NewPanics()
	r := NewRequests(RequestsOptions{Panics: p})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /boom", panickingHandler)
	mux.HandleFunc("GET /abort", panickingHandler)
	mux.HandleFunc("GET /fine", panickingHandler)
	srv := httptest.NewUnstartedServer(r.Middleware(mux))
	var logBuf syncBuffer
	srv.Config.ErrorLog = log.New(&logBuf, "", 0)
	srv.Start()
	defer srv.Close()

	for _, path := range []string{"/boom", "/boom", "/abort", "/fine"} {
		resp, err := srv.Client().Get(srv.URL + path)
		if path == "/fine" {
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			continue
		}
		if err == nil {
			resp.Body.Close()
			t.Fatalf("%s: got a response (%s), want the connection closed as net/http does on a panic", path, resp.Status)
		}
	}
	if !strings.Contains(logBuf.String(), "assignment to entry in nil map") {
		t.Errorf("net/http did not log the panic:\n%s", logBuf.String())
	}
	var s model.Snapshot
	if err := p.Collect(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	if err := r.Collect(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Panics) != 1 {
		t.Fatalf("panic sites = %+v, want 1 (ErrAbortHandler is not a bug)", s.Panics)
	}
	ps := s.Panics[0]
	if want := lineOf(t, "the handler panics here"); ps.Site.Site() != want {
		t.Errorf("site = %s, want %s", ps.Site.Site(), want)
	}
	if ps.Count != 2 || ps.Kind != model.PanicHandler || ps.Route != "GET /boom" || !strings.Contains(ps.Value, "nil map") {
		t.Errorf("panic site = %+v", ps)
	}
	if l := s.RequestLoad; l.StartedTotal != 4 || l.CompletedTotal != 4 || l.InFlight != 0 {
		t.Errorf("load = %+v, want 4 started and completed", l)
	}
}

func panicInGoroutine() {
	panic(errors.New("worker failed")) // the goroutine panics here
}

// TestRecordAndRepanic: the deferred helper counts the panic and panics
// again with the same value.
func TestRecordAndRepanic(t *testing.T) {
	p := NewPanics()
	var got any
	var wg sync.WaitGroup
	wg.Go(func() {
		defer func() { got = recover() }()
		func() {
			defer p.RecordAndRepanic()
			panicInGoroutine()
		}()
	})
	wg.Wait()
	if err, ok := got.(error); !ok || err.Error() != "worker failed" {
		t.Fatalf("re-panicked value = %v, want the original error", got)
	}
	var s model.Snapshot
	p.Collect(context.Background(), &s)
	if len(s.Panics) != 1 || s.Panics[0].Kind != model.PanicGoroutine || s.Panics[0].Site.Site() != lineOf(t, "the goroutine panics here") {
		t.Fatalf("panics = %+v", s.Panics)
	}
	var nilP *Panics
	func() {
		defer func() { got = recover() }()
		defer nilP.RecordAndRepanic()
		panic("nil recorder")
	}()
	if got != "nil recorder" {
		t.Fatalf("a nil recorder swallowed the panic: %v", got)
	}
}

// syncBuffer is a bytes.Buffer safe for the server's concurrent logging.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

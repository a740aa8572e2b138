package agent

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// FuzzHandler drives the whole API, access checks included, with
// arbitrary methods, paths, query strings and a header, each sent with
// or without the token, as the server would parse them. Whatever comes
// in: no panic; no 5xx but the documented 503 (too many stream clients,
// another CPU profile or trace running, no snapshot yet); no
// stop-the-world dump unless the answer is 200; and a 400 spends no
// dump allowance.
//
// Seeds run with every go test; go test ./agent -run '^$' -fuzz
// FuzzHandler explores further.
func FuzzHandler(f *testing.F) {
	const token = "fuzz-token"
	a, err := Start(context.Background(), Options{NoListen: true, Token: token, Interval: time.Hour})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { a.Close() })
	for _, s := range []struct {
		method, path, query, hname, hvalue string
		auth                               bool
	}{
		{"GET", "/api/v1/goroutines", "full=1&sort=bogus", "Accept", "*/*", true},
		{"GET", "/api/v1/goroutines", "full=1", "X", "y", true},
		{"GET", "/api/v1/goroutines", "full=1&sort=site&order=asc&limit=3&filter=main", "X", "y", true},
		{"GET", "/debug/pprof/goroutine", "debug=2", "X", "y", true},
		{"GET", "/debug/pprof/goroutine", "debug=2&seconds=1", "X", "y", true},
		{"GET", "/debug/pprof/profile", "seconds=100000", "X", "y", true},
		{"GET", "/debug/pprof/profile", "seconds=1", "X", "y", true},
		{"GET", "/debug/pprof/trace", "seconds=0.01", "X", "y", true},
		{"GET", "/debug/pprof/heap", "seconds=2", "X", "y", true},
		{"GET", "/debug/pprof/heap", "gc=1&debug=1", "X", "y", true},
		{"GET", "/debug/pprof/", "", "X", "y", true},
		{"GET", "/debug/pprof/cmdline", "", "X", "y", true},
		{"POST", "/debug/pprof/symbol", "", "Content-Length", "5", true},
		{"GET", "/debug/fgprof", "seconds=1&format=folded", "X", "y", true},
		{"GET", "/api/v1/stream", "", "Last-Event-ID", "7", true},
		{"GET", "/api/v1/history", "since=5m&limit=2", "X", "y", true},
		{"GET", "/api/v1/history", "since=-5m", "X", "y", true},
		{"GET", "/api/v1/connections", "sort=idle&kind=sql", "X", "y", true},
		{"GET", "/api/v1/findings", "state=firing&detector=nope", "X", "y", true},
		{"GET", "/api/v1/captures/..%2F..%2Fetc%2Fpasswd", "", "X", "y", true},
		{"GET", "/api/v1/snapshot", "", "Authorization", "Bearer nope", false},
		{"GET", "/metrics", "", "Authorization", "bearer " + token, false},
		{"DELETE", "/api/v1/snapshot", "", "X", "y", true},
		{"HEAD", "/healthz", "", "X", "y", false},
		{"GET", "//healthz/../metrics", "", "X", "y", false},
		{"OPTIONS", "*", "", "X", "y", false},
	} {
		f.Add(s.method, s.path, s.query, s.hname, s.hvalue, s.auth)
	}
	f.Fuzz(func(t *testing.T, method, path, query, hname, hvalue string, auth bool) {
		raw := method + " " + path
		if query != "" {
			raw += "?" + query
		}
		raw += " HTTP/1.1\r\nHost: agent\r\n" + hname + ": " + hvalue + "\r\n"
		if auth {
			raw += "Authorization: Bearer " + token + "\r\n"
		}
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw + "\r\n")))
		if err != nil {
			return // the server would answer 400 before any handler
		}
		req.RemoteAddr = "192.0.2.1:4242"
		// Short, so profiles, traces and streams end quickly.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		defer cancel()
		dumps, rated := a.cnt.Dumps(), a.cnt.Hits(LimitDumpRate)
		rec := httptest.NewRecorder()
		a.Handler().ServeHTTP(rec, req.WithContext(ctx))
		code := rec.Code
		if code >= 500 && code != http.StatusServiceUnavailable {
			t.Fatalf("%s %s?%s: %d %s", method, path, query, code, rec.Body.String())
		}
		if a.cnt.Dumps() != dumps && code != http.StatusOK {
			t.Fatalf("%s %s?%s: a stop-the-world dump for a %d answer", method, path, query, code)
		}
		if code == http.StatusBadRequest && a.cnt.Hits(LimitDumpRate) != rated {
			t.Fatalf("%s %s?%s: a 400 went through the dump rate limit", method, path, query)
		}
		if code == http.StatusUnauthorized && strings.Contains(rec.Body.String(), token) {
			t.Fatalf("the token shows in a 401 answer")
		}
	})
}

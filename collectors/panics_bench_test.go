package collectors

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkMiddlewareWithPanicRecorder is one request through the
// middleware with a panic recorder (the deferred recover and the
// started/completed counts included), against the handler alone.
func BenchmarkMiddlewareWithPanicRecorder(b *testing.B) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	req := httptest.NewRequest("GET", "/x", nil)
	w := httptest.NewRecorder()
	for _, mode := range []string{"handler", "middleware"} {
		b.Run(mode, func(b *testing.B) {
			var hh http.Handler = h
			if mode == "middleware" {
				hh = NewRequests(RequestsOptions{Panics: NewPanics()}).Middleware(h)
			}
			b.ReportAllocs()
			for b.Loop() {
				hh.ServeHTTP(w, req)
			}
		})
	}
}

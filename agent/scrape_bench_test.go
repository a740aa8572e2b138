package agent

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	promcollectors "github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// BenchmarkScrape is one GET /metrics with n parked goroutines, through
// the agent's handler (agent), against client_golang's Go collector alone
// with the same runtime metrics on (go-collector), in the same run.
// cpu-ns/op is process CPU time per scrape (getrusage), which a loaded
// machine inflates less than wall time.
func BenchmarkScrape(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		release := parkGoroutines(n)
		a, err := Start(context.Background(), Options{NoListen: true, Interval: time.Hour})
		if err != nil {
			b.Fatal(err)
		}
		a.collect(context.Background())
		goOnly := prometheus.NewRegistry()
		goOnly.MustRegister(promcollectors.NewGoCollector(promcollectors.WithGoCollectorRuntimeMetrics(
			promcollectors.MetricsScheduler, promcollectors.MetricsGC)))
		for _, bc := range []struct {
			name string
			h    http.Handler
		}{
			{"go-collector", promhttp.HandlerFor(goOnly, promhttp.HandlerOpts{})},
			{"agent", a.Handler()},
		} {
			b.Run(fmt.Sprintf("goroutines=%d/%s", n, bc.name), func(b *testing.B) {
				b.ReportAllocs()
				req := httptest.NewRequest("GET", "/metrics", nil)
				var bytes int
				cpu0 := cpuSeconds()
				for b.Loop() {
					w := httptest.NewRecorder()
					bc.h.ServeHTTP(w, req)
					if w.Code != http.StatusOK {
						b.Fatalf("status %d", w.Code)
					}
					bytes = w.Body.Len()
					_, _ = io.Discard.Write(w.Body.Bytes())
				}
				b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N)*1e9, "cpu-ns/op")
				b.ReportMetric(float64(bytes), "bytes/scrape")
			})
		}
		a.Close()
		release()
	}
}

package goroutines

import (
	"context"
	"fmt"
	"runtime"
	"runtime/pprof"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/internal/workload"
)

// parkLabelled parks n goroutines on a channel under pprof labels, in
// groups of 100 per label set (each group its own pprof.Do, so its own
// label pointer, as requests of one handler have), and returns the
// function that releases and joins them.
func parkLabelled(n int) (stop func()) {
	release := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < n; i += 100 {
		route := fmt.Sprintf("/route/%d", i/100%7)
		pprof.Do(context.Background(), pprof.Labels("route", route), func(context.Context) {
			for range min(100, n-i) {
				wg.Go(func() { <-release })
			}
		})
	}
	return func() { close(release); wg.Wait() }
}

func cpuTime() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkRefresh is one refresh of the group table from the concurrent
// goroutine profile, read as pprof's debug=1 text (path=text, the way it
// was read before) and as records (path=records, the default where the
// build has it), side by side at each size. Half of the parked
// goroutines carry pprof labels. cpu-ms/op is process CPU per refresh;
// max-pause-µs the longest stop-the-world pause (GC or other, upper
// bucket bound of the runtime's histograms) during any refresh.
//
//	go test -run '^$' -bench Refresh -benchtime 3x -count 6 ./collectors/goroutines
func BenchmarkRefresh(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{1000, 10000, 100000, 1000000} {
		w := workload.Start(workload.Counts{Recv: n / 2})
		stop := parkLabelled(n / 2)
		for _, path := range []string{"text", "records"} {
			b.Run(fmt.Sprintf("goroutines=%d/path=%s", n, path), func(b *testing.B) {
				if path == "records" && !haveRecords {
					b.Skip("this Go version reads the profile as text only")
				}
				c := NewCollector(Options{MaxPause: -1})
				c.textProfile = path == "text"
				runtime.GC()
				b.ReportAllocs()
				cpu0 := cpuTime()
				var worst time.Duration
				for b.Loop() {
					other, gc := newPauseProbe(pauseMetric), newPauseProbe(gcPauseMetric)
					if _, err := c.Refresh(ctx); err != nil {
						b.Fatal(err)
					}
					worst = max(worst, other.max(), gc.max())
				}
				b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/1e6, "cpu-ms/op")
				b.ReportMetric(float64(worst)/1e3, "max-pause-µs")
			})
		}
		stop()
		w.Stop()
	}
}

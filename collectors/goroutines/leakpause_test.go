package goroutines

import (
	"fmt"
	"io"
	"runtime"
	"runtime/pprof"
	"testing"
)

// BenchmarkLeakProfilePause measures what one read of the runtime's
// goroutineleak profile costs with n goroutines parked on a channel that
// is still reachable (the common case: idle goroutines, none leaked): the
// wall time of the read (ns/op, a forced GC cycle with leak detection),
// and the longest stop-the-world pause during it, to the precision of
// the runtime's pause histogram (max-pause-ms), which is what the
// collector bounds with Options.LeakMaxPause. It needs Go 1.27, or Go
// 1.26 with GOEXPERIMENT=goroutineleakprofile:
//
//	GOTOOLCHAIN=go1.27.3 go test -run '^$' -bench LeakProfilePause -benchtime 5x ./collectors/goroutines
func BenchmarkLeakProfilePause(b *testing.B) {
	p := pprof.Lookup(leakProfileName)
	if p == nil {
		b.Skip("no goroutineleak profile: needs Go 1.27, or GOEXPERIMENT=goroutineleakprofile on Go 1.26")
	}
	for _, n := range []int{1000, 10000, 100000, 1000000} {
		b.Run(fmt.Sprintf("goroutines=%d", n), func(b *testing.B) {
			park := make(chan struct{})
			started := make(chan struct{}, 1024)
			for range n {
				go func() {
					started <- struct{}{}
					<-park
				}()
				<-started
			}
			defer close(park)
			runtime.GC()
			var worst float64
			b.ResetTimer()
			for range b.N {
				probe := newPauseProbe(gcPauseMetric)
				if err := p.WriteTo(io.Discard, 1); err != nil {
					b.Fatal(err)
				}
				worst = max(worst, probe.max().Seconds())
			}
			b.StopTimer()
			b.ReportMetric(worst*1e3, "max-pause-ms")
			b.ReportMetric(worst*1e9/float64(n), "pause-ns/goroutine")
		})
	}
}

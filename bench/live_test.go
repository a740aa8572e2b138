package bench

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/pprof"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/collectors/goroutines"
	"github.com/asyncmon/asyncmon/internal/workload"
)

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// parked starts n goroutines parked in a channel receive and waits until
// the runtime counts them.
func parked(b *testing.B, n int) func() {
	b.Helper()
	before := runtime.NumGoroutine()
	w := workload.Start(workload.Counts{Recv: n})
	for runtime.NumGoroutine() < before+n {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // let the last ones park
	return w.Stop
}

// BenchmarkGroupTable is one refresh of the live group table (the
// concurrent goroutine profile, symbolised and grouped) with n parked
// goroutines, against a plain debug=2 dump (stop-the-world for the whole
// walk) and a debug=2 dump parsed and grouped.
func BenchmarkGroupTable(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{1000, 10000, 100000} {
		stop := parked(b, n)
		run := func(name string, f func()) {
			b.Run(fmt.Sprintf("goroutines=%d/%s", n, name), func(b *testing.B) {
				runtime.GC()
				pw := newPauseWatch()
				cpu0 := cpuTime()
				for b.Loop() {
					f()
					pw.check()
				}
				pw.report(b)
				b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/1e6, "cpu-ms/op")
			})
		}
		c := goroutines.NewCollector(goroutines.Options{})
		run("live-table", func() {
			if _, err := c.Refresh(ctx); err != nil {
				b.Fatal(err)
			}
		})
		run("debug2-dump", func() {
			if err := pprof.Lookup("goroutine").WriteTo(io.Discard, 2); err != nil {
				b.Fatal(err)
			}
		})
		full := goroutines.NewCollector(goroutines.Options{MaxPause: time.Hour})
		run("debug2-table", func() {
			if _, err := full.Refresh(ctx); err != nil {
				b.Fatal(err)
			}
		})
		stop()
	}
}

//go:noinline
func pingPong(n int) {
	ping, pong := make(chan int), make(chan int)
	var wg sync.WaitGroup
	wg.Go(func() {
		for v := range ping {
			pong <- v
		}
	})
	for i := range n {
		ping <- i
		<-pong
	}
	close(ping)
	wg.Wait()
}

// BenchmarkBlockProfileRate measures what the block profile costs a
// channel ping-pong (the worst case: every operation blocks) at several
// rates. rate=0 is off; 10000 is agent.DefaultBlockProfileRate (this
// module does not import the agent, to keep its dependencies small).
func BenchmarkBlockProfileRate(b *testing.B) {
	for _, rate := range []int{0, 1, 1000, 10_000, 100000} {
		b.Run(fmt.Sprintf("rate=%d", rate), func(b *testing.B) {
			runtime.SetBlockProfileRate(rate)
			defer runtime.SetBlockProfileRate(0)
			for b.Loop() {
				pingPong(1000)
			}
		})
	}
}

// BenchmarkMutexProfileFraction measures what the mutex profile costs a
// contended mutex at several fractions. fraction=0 is off; 10 is
// agent.DefaultMutexProfileFraction.
func BenchmarkMutexProfileFraction(b *testing.B) {
	for _, frac := range []int{0, 1, 10, 100} {
		b.Run(fmt.Sprintf("fraction=%d", frac), func(b *testing.B) {
			prev := runtime.SetMutexProfileFraction(frac)
			defer runtime.SetMutexProfileFraction(prev)
			var mu sync.Mutex
			counter := 0
			for b.Loop() {
				var wg sync.WaitGroup
				for range 4 {
					wg.Go(func() {
						for range 2500 {
							mu.Lock()
							counter++
							mu.Unlock()
						}
					})
				}
				wg.Wait()
			}
			_ = counter
		})
	}
}

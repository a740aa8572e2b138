package agent

import (
	"context"
	"fmt"
	"math"
	"runtime/metrics"
	"sync"
	"syscall"
	"testing"
	"time"
)

// parkGoroutines starts n goroutines parked on a channel receive and
// returns the function that releases them.
func parkGoroutines(n int) (release func()) {
	ch := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { <-ch })
	}
	return func() { close(ch); wg.Wait() }
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

// maxPause returns the largest stop-the-world pause bucket that gained
// observations between two readings of /sched/pauses/total/*.
func maxPause(before, after []metrics.Sample) float64 {
	worst := 0.0
	for i := range before {
		hb, ha := before[i].Value.Float64Histogram(), after[i].Value.Float64Histogram()
		for j := range ha.Counts {
			if ha.Counts[j] > hb.Counts[j] {
				hi := ha.Buckets[j+1]
				if math.IsInf(hi, 1) {
					hi = ha.Buckets[j]
				}
				worst = math.Max(worst, hi)
			}
		}
	}
	return worst
}

func pauseSamples() []metrics.Sample {
	s := []metrics.Sample{{Name: "/sched/pauses/total/gc:seconds"}, {Name: "/sched/pauses/total/other:seconds"}}
	metrics.Read(s)
	return s
}

// BenchmarkCollect measures one default collection cycle (every built-in
// collector) with n parked goroutines in the process. Besides ns/op it
// reports the process CPU time per cycle and the longest stop-the-world
// pause seen while cycling, which the agent must keep under 1 ms.
func BenchmarkCollect(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("goroutines=%d", n), func(b *testing.B) {
			release := parkGoroutines(n)
			defer release()
			a, err := Start(context.Background(), Options{NoListen: true, Interval: time.Hour})
			if err != nil {
				b.Fatal(err)
			}
			defer a.Close()
			b.ReportAllocs()
			before := pauseSamples()
			cpu0 := cpuSeconds()
			for b.Loop() {
				a.collect(context.Background())
			}
			cpu := cpuSeconds() - cpu0
			after := pauseSamples()
			b.ReportMetric(cpu/float64(b.N)*1e9, "cpu-ns/op")
			b.ReportMetric(maxPause(before, after)*1e6, "max-pause-µs")
		})
	}
}

package agent

import (
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"slices"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/internal/cputime"
	"github.com/asyncmon/asyncmon/model"
)

// usage is what one piece of work cost: the calling thread's CPU time,
// heap allocations (objects and bytes) and wall time.
type usage struct {
	cpu, wall time.Duration
	size      uint64
}

// allocBytes is the heap allocated so far (runtime/metrics, which reads
// it without stopping the world; per-P caches make it coarse for small
// amounts, fine for a refresh's megabytes).
func allocBytes() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// stoppingSamples are the times the runtime took to stop the world (the
// wait for every thread to reach a safe point), part of each pause: on
// a shared VM a descheduled thread makes this the bulk of a long pause.
func stoppingSamples() []metrics.Sample {
	s := []metrics.Sample{{Name: "/sched/pauses/stopping/gc:seconds"}, {Name: "/sched/pauses/stopping/other:seconds"}}
	metrics.Read(s)
	return s
}

// measureUsage runs fn locked to its thread and returns its usage.
func measureUsage(fn func()) usage {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b0 := allocBytes()
	c0, _ := cputime.Thread()
	start := time.Now()
	fn()
	wall := time.Since(start)
	c1, _ := cputime.Thread()
	return usage{cpu: c1 - c0, wall: wall, size: allocBytes() - b0}
}

// BenchmarkScale measures the agent at 1k to 1M parked goroutines with
// 100 tracked connections, and at 1k goroutines with 10k connections.
// Each op runs every collector once, as a cycle does (the goroutine table
// reused, as the refresh budget makes most cycles), each on its own
// measured thread, then forces one goroutine-table refresh. Reported:
//
//   - cycle-cpu-µs: CPU of one cycle, all collectors; <name>-cpu-µs for
//     the collectors that cost the most (goroutines reusing its table,
//     connections, runtime);
//   - refresh-cpu-ms, refresh-MiB: one table refresh and what it allocates
//     (transient: the runtime's profile records);
//   - cycle-allocs: heap allocations of one cycle (testing.AllocsPerRun,
//     after the timed loop);
//   - max-pause-µs: the longest stop-the-world pause while cycling and
//     refreshing (upper bucket bound of /sched/pauses/total/*);
//     <name>-pause-µs the longest during each collector's runs (and
//     refresh-pause-µs during the forced refreshes): pauses by anyone
//     else in the process at the time count too, so an upper bound; and
//     max-stopping-µs the longest wait for the world to stop within one
//     (/sched/pauses/stopping/*): when the two are close, the pause was
//     a descheduled thread, not work;
//   - agent-MiB: the live heap the agent holds once its history is full
//     (600 snapshots taken at the defaults' pace, tables shared between
//     refreshes), measured after GC against the heap before Start;
//   - scrape-µs: the fastest of five GET /metrics.
//
// go test -run '^$' -bench Scale -benchtime 3x ./agent
func BenchmarkScale(b *testing.B) {
	for _, tc := range []struct{ goroutines, conns int }{
		{1_000, 100}, {10_000, 100}, {100_000, 100}, {1_000_000, 100}, {1_000, 10_000},
	} {
		b.Run(fmt.Sprintf("goroutines=%d/conns=%d", tc.goroutines, tc.conns), func(b *testing.B) {
			ctx := context.Background()
			release := parkGoroutines(tc.goroutines)
			defer release()
			raw := make([]net.Conn, 0, 2*tc.conns)
			for range tc.conns {
				c1, c2 := net.Pipe()
				raw = append(raw, c1, c2)
			}
			defer func() {
				for _, c := range raw {
					c.Close()
				}
			}()
			heap0 := liveHeap()
			a, err := Start(ctx, Options{NoListen: true, Interval: time.Hour})
			if err != nil {
				b.Fatal(err)
			}
			defer a.Close()
			tracked := make([]net.Conn, 0, tc.conns)
			for i := 0; i < len(raw); i += 2 {
				tracked = append(tracked, a.conns.WrapConn(raw[i], model.ConnClient))
			}
			defer func() {
				for _, c := range tracked {
					c.Close()
				}
			}()

			per := map[string]time.Duration{}
			pauses := map[string]float64{} // longest pause during each collector's run, s
			var cycle, refresh usage
			before, stopping0 := pauseSamples(), stoppingSamples()
			for b.Loop() {
				snap := &model.Snapshot{Time: time.Now()}
				for _, cs := range a.cols {
					var cost time.Duration
					p0 := pauseSamples()
					u := measureUsage(func() { _, cost = a.runCollector(ctx, cs, snap) })
					pauses[cs.c.Name()] = max(pauses[cs.c.Name()], maxPause(p0, pauseSamples()))
					u.cpu = cost // the collector ran on a thread of its own
					per[cs.c.Name()] += u.cpu
					cycle.cpu += u.cpu
				}
				p0 := pauseSamples()
				u := measureUsage(func() { _, _ = a.goroutines.Refresh(ctx) })
				pauses["refresh"] = max(pauses["refresh"], maxPause(p0, pauseSamples()))
				refresh.cpu += u.cpu
				refresh.size += u.size
			}
			after, stopping1 := pauseSamples(), stoppingSamples()
			n := time.Duration(b.N)
			cycleAllocs := testing.AllocsPerRun(3, func() {
				snap := &model.Snapshot{Time: time.Now()}
				for _, cs := range a.cols {
					a.runCollector(ctx, cs, snap)
				}
			})

			for range 600 {
				a.collect(ctx)
			}
			heap1 := liveHeap()
			runtime.KeepAlive(tracked)

			var scrapes []time.Duration
			for range 5 {
				start := time.Now()
				a.Handler().ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/metrics", nil))
				scrapes = append(scrapes, time.Since(start))
			}

			b.ReportMetric(float64(cycle.cpu/n)/1e3, "cycle-cpu-µs")
			b.ReportMetric(cycleAllocs, "cycle-allocs")
			for _, name := range []string{"goroutines", "connections", "runtime"} {
				b.ReportMetric(float64(per[name]/n)/1e3, name+"-cpu-µs")
			}
			b.ReportMetric(float64(refresh.cpu/n)/1e6, "refresh-cpu-ms")
			b.ReportMetric(float64(refresh.size)/float64(b.N)/(1<<20), "refresh-MiB")
			b.ReportMetric(maxPause(before, after)*1e6, "max-pause-µs")
			for name, p := range pauses {
				b.ReportMetric(p*1e6, name+"-pause-µs")
			}
			b.ReportMetric(maxPause(stopping0, stopping1)*1e6, "max-stopping-µs")
			b.ReportMetric((float64(heap1)-float64(heap0))/(1<<20), "agent-MiB")
			b.ReportMetric(float64(slices.Min(scrapes))/1e3, "scrape-µs")
		})
	}
}

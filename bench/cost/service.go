package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"sync"
	"syscall"
	"time"

	"github.com/asyncmon/asyncmon/agent"
	"github.com/felixge/fgprof"
	"github.com/prometheus/client_golang/prometheus"
	promcollectors "github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The monitoring variants the service runs with.
const (
	modeNone       = "none"       // no monitoring at all
	modeDefaults   = "defaults"   // agent.Start with zero Options
	modeMiddleware = "middleware" // defaults + Middleware + WrapListener
	modeProfiling  = "profiling"  // defaults + block and mutex profiling
	modePromGo     = "promgo"     // client_golang's Go collector alone
	modeFgprof     = "fgprof"     // fgprof always on
	modeDump       = "dump"       // a debug=2 goroutine dump every second
	// modeAttached is defaults with attachedStreams SSE streams and
	// attachedPollers JSON pollers attached besides the usual sidecar:
	// a crowd of TUIs, dashboards and scripts at once.
	modeAttached = "attached"
)

var allModes = []string{modeNone, modeDefaults, modeMiddleware, modeProfiling, modePromGo, modeFgprof, modeDump, modeAttached}

// isAgentMode reports whether mode runs the asyncmon agent.
func isAgentMode(mode string) bool {
	switch mode {
	case modeDefaults, modeMiddleware, modeProfiling, modeAttached:
		return true
	}
	return false
}

// workTarget is the CPU each request spends hashing; the driver
// calibrates it once and passes the rounds to every service it starts, so
// that all variants do the same work.
const workTarget = 18 * time.Microsecond

// serve runs the service until SIGTERM or SIGINT: /work costs about 18 µs
// of SHA-256 and one channel round trip to a worker goroutine; parked
// goroutines wait on a channel for the service's lifetime. It prints
// "ADDR host:port" on stdout once it accepts requests.
func serve(mode string, parked, rounds int) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	park := make(chan struct{})
	var parkedWG sync.WaitGroup
	for range parked {
		parkedWG.Go(func() { <-park })
	}
	defer func() { close(park); parkedWG.Wait() }()

	jobs := make(chan job)
	var workers sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		workers.Go(func() {
			for j := range jobs {
				j.reply <- j.sum[0]
			}
		})
	}
	defer func() { close(jobs); workers.Wait() }()

	var work http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var buf [1024]byte
		copy(buf[:], r.URL.Path)
		sum := sha256.Sum256(buf[:])
		for range rounds - 1 {
			copy(buf[:], sum[:])
			sum = sha256.Sum256(buf[:])
		}
		reply := make(chan byte, 1)
		select {
		case jobs <- job{sum: sum, reply: reply}:
		case <-r.Context().Done():
			return
		}
		b := <-reply
		fmt.Fprintf(w, "%02x\n", b)
	})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	var a *agent.Agent
	switch mode {
	case modeDefaults, modeMiddleware, modeProfiling, modeAttached:
		opts := agent.Options{NoListen: true}
		if mode == modeProfiling {
			opts.BlockProfileRate = agent.DefaultBlockProfileRate
			opts.MutexProfileFraction = agent.DefaultMutexProfileFraction
		}
		a, err = agent.Start(ctx, opts)
		if err != nil {
			return err
		}
		defer a.Close()
		mux.Handle("/metrics", a.Handler())
		mux.Handle("/api/", a.Handler())
		if mode == modeMiddleware {
			work = a.Middleware(work)
			ln = a.WrapListener(ln)
		}
	case modePromGo:
		reg := prometheus.NewRegistry()
		reg.MustRegister(promcollectors.NewGoCollector(promcollectors.WithGoCollectorRuntimeMetrics(
			promcollectors.MetricsScheduler, promcollectors.MetricsGC)))
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	case modeFgprof:
		// A continuous profiler: fgprof samples every goroutine's stack
		// 99 times a second; a profile is cut every 10 s.
		var bg sync.WaitGroup
		defer bg.Wait()
		bg.Go(func() {
			stopProfile := fgprof.Start(io.Discard, fgprof.FormatPprof)
			periodic(ctx, 10*time.Second, func() {
				_ = stopProfile()
				stopProfile = fgprof.Start(io.Discard, fgprof.FormatPprof)
			})
			_ = stopProfile()
		})
	case modeDump:
		var bg sync.WaitGroup
		defer bg.Wait()
		bg.Go(func() {
			periodic(ctx, time.Second, func() { _ = pprof.Lookup("goroutine").WriteTo(io.Discard, 2) })
		})
	case modeNone:
	default:
		return fmt.Errorf("unknown mode %q", mode)
	}
	mux.Handle("/work", work)

	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("ADDR %s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
	case err := <-errc:
		return err
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	<-errc
	return nil
}

type job struct {
	sum   [32]byte
	reply chan byte
}

// periodic calls f every d until ctx ends.
func periodic(ctx context.Context, d time.Duration, f func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}

// calibrate returns the number of SHA-256 rounds over 1 KiB that take
// about workTarget of CPU on this machine: the fastest of several timings,
// so that a busy machine does not shrink the work.
func calibrate() int {
	const probe = 2000
	var buf [1024]byte
	best := time.Duration(1 << 62)
	for range 5 {
		start := time.Now()
		sum := sha256.Sum256(buf[:])
		for range probe {
			copy(buf[:], sum[:])
			sum = sha256.Sum256(buf[:])
		}
		best = min(best, time.Since(start))
	}
	perRound := best / probe
	return max(1, int(workTarget/max(perRound, time.Nanosecond)))
}

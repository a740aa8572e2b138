// Command cost measures what monitoring costs a busy Go HTTP service,
// asyncmon against its peers (docs/perf.md, "What it costs a service").
//
// It starts the service below as a separate process per run, drives it
// from this process with saturating keep-alive load on loopback, with a
// Prometheus-like scraper (GET /metrics every second) and a TUI-like
// reader (GET /api/v1/goroutines every 2 s) attached, and reports
// throughput, p50, p99 and CPU per request as ratios to the neighbouring
// runs without monitoring:
//
//	cd bench && go run ./cost                 # the full run (about 35 minutes)
//	cd bench && go run ./cost -short          # a quick check of the harness
//
// The service spends about 18 µs hashing per request plus one channel
// round trip to a worker goroutine, with N goroutines parked for its
// lifetime. Each round runs "none", every other mode, and "none" again;
// the second "none" against the first is the noise floor.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// serveEnv carries "mode,parked,rounds" to a child started to be the
// service.
const serveEnv = "ASYNCMON_COST_SERVE"

// config is one run of the harness.
type config struct {
	Parked  []int
	Modes   []string
	Rounds  int
	Window  time.Duration
	Warmup  time.Duration
	Conc    int
	Hashing int // SHA-256 rounds per request; 0: calibrate
	Log     io.Writer
}

func main() {
	if v, ok := os.LookupEnv(serveEnv); ok {
		if err := serveFromEnv(v); err != nil {
			fmt.Fprintln(os.Stderr, "cost serve:", err)
			os.Exit(1)
		}
		return
	}
	short := flag.Bool("short", false, "a quick run: 0 and 1,000 parked, 1 round, 1 s windows")
	parked := flag.String("parked", "0,10000,100000", "parked goroutine counts, comma-separated")
	modes := flag.String("modes", strings.Join(allModes, ","), "modes to compare (none is always run)")
	rounds := flag.Int("rounds", 3, "rounds (each: none, every mode, none)")
	win := flag.Duration("window", 10*time.Second, "measured window per run")
	warmup := flag.Duration("warmup", 3*time.Second, "load before each window")
	conc := flag.Int("conc", 16, "concurrent keep-alive connections of the load generator")
	jsonOut := flag.String("json", "", "also write every window as JSON to this file")
	flag.Parse()

	cfg := config{Rounds: *rounds, Window: *win, Warmup: *warmup, Conc: *conc, Log: os.Stderr}
	if *short {
		*parked, cfg.Rounds, cfg.Window, cfg.Warmup = "0,1000", 1, time.Second, 500*time.Millisecond
	}
	for _, f := range strings.Split(*parked, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 {
			fmt.Fprintf(os.Stderr, "cost: -parked: %q is not a count\n", f)
			os.Exit(2)
		}
		cfg.Parked = append(cfg.Parked, n)
	}
	cfg.Modes = strings.Split(*modes, ",")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg.Hashing = calibrate()
	ws, err := run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cost:", err)
		os.Exit(1)
	}
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(ws, "", "  ")
		if err := os.WriteFile(*jsonOut, b, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "cost:", err)
			os.Exit(1)
		}
	}
	report(os.Stdout, cfg, ws)
}

func serveFromEnv(v string) error {
	f := strings.Split(v, ",")
	if len(f) != 3 {
		return fmt.Errorf("%s=%q: want mode,parked,rounds", serveEnv, v)
	}
	parked, err1 := strconv.Atoi(f[1])
	rounds, err2 := strconv.Atoi(f[2])
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("%s=%q: %w", serveEnv, v, err)
	}
	return serve(f[0], parked, rounds)
}

// run measures every mode at every parked count, interleaved: per round,
// none, the modes (rotated each round), none.
func run(ctx context.Context, cfg config) ([]window, error) {
	for _, m := range cfg.Modes {
		if !slices.Contains(allModes, m) {
			return nil, fmt.Errorf("unknown mode %q (modes: %s)", m, strings.Join(allModes, ", "))
		}
	}
	modes := slices.DeleteFunc(slices.Clone(cfg.Modes), func(m string) bool { return m == modeNone })
	if cfg.Hashing == 0 {
		cfg.Hashing = calibrate()
	}
	var out []window
	for _, parked := range cfg.Parked {
		for r := range cfg.Rounds {
			order := []string{modeNone}
			for i := range modes {
				order = append(order, modes[(i+r)%len(modes)])
			}
			order = append(order, modeNone)
			for _, m := range order {
				w, err := runOne(ctx, cfg, m, parked)
				if err != nil {
					return out, fmt.Errorf("%s at %d parked: %w", m, parked, err)
				}
				w.Round = r
				out = append(out, w)
				fmt.Fprintf(cfg.Log, "parked=%d round=%d %-10s %8.0f req/s  p50 %6.0f µs  p99 %7.0f µs  %5.1f µs CPU/req  refreshes %d\n",
					parked, r, m, w.throughput(), w.P50Micros, w.P99Micros, w.cpuPerRequest()*1e6, w.Refreshes)
			}
		}
	}
	return out, nil
}

// runOne starts the service in mode, measures one window and stops it.
func runOne(ctx context.Context, cfg config, mode string, parked int) (window, error) {
	exe, err := os.Executable()
	if err != nil {
		return window{}, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s,%d,%d", serveEnv, mode, parked, cfg.Hashing))
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return window{}, err
	}
	if err := cmd.Start(); err != nil {
		return window{}, err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "ADDR "); ok {
				addr <- a
			}
		}
		close(addr)
	}()
	var base string
	select {
	case a, ok := <-addr:
		if !ok {
			return window{}, errors.New("service exited before listening")
		}
		base = "http://" + a
	case <-time.After(2 * time.Minute):
		return window{}, errors.New("service did not start within 2 minutes")
	case <-ctx.Done():
		return window{}, ctx.Err()
	}
	from := time.Now().Add(cfg.Warmup)
	attached := 0
	if mode == modeAttached {
		attached = attachedStreams + attachedPollers
	}
	w, err := measure(ctx, base, cmd.Process.Pid, cfg.Conc, attached, cfg.Warmup, cfg.Window)
	if err != nil {
		return window{}, err
	}
	w.Mode, w.Parked = mode, parked
	if isAgentMode(mode) {
		if w.Refreshes, err = refreshesIn(base, from, from.Add(time.Duration(w.Seconds*float64(time.Second)))); err != nil {
			return window{}, err
		}
	}
	return w, nil
}

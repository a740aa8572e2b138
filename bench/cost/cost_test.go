package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"time"
)

// TestMain makes the test binary the service when the harness starts it
// as a child, as the command's binary is.
func TestMain(m *testing.M) {
	if v, ok := os.LookupEnv(serveEnv); ok {
		if err := serveFromEnv(v); err != nil {
			fmt.Fprintln(os.Stderr, "cost serve:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestHarnessShort runs the harness end to end with tiny windows: every
// service starts as its own process, takes load, is scraped, and every
// mode gets finite ratios to the no-monitoring runs. It asserts that the
// harness works, never a timing.
func TestHarnessShort(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 14 services; skipped with -short")
	}
	cfg := config{
		Parked: []int{0, 500},
		Modes:  []string{modeDefaults, modeMiddleware, modePromGo, modeDump, modeAttached},
		Rounds: 1, Window: 700 * time.Millisecond, Warmup: 300 * time.Millisecond,
		Conc: 4, Hashing: calibrate(), Log: t.Output(),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ws, err := run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if want := len(cfg.Parked) * (len(cfg.Modes) + 2); len(ws) != want {
		t.Fatalf("got %d windows, want %d", len(ws), want)
	}
	for _, w := range ws {
		if w.Requests == 0 || w.Errors != 0 || w.CPU <= 0 || w.P99 < w.P50 || w.P50 <= 0 {
			t.Errorf("%s at %d parked: %d requests, %d errors, %.3f s CPU, p50 %v, p99 %v; want requests, no errors, CPU and p50 ≤ p99",
				w.Mode, w.Parked, w.Requests, w.Errors, w.CPU, w.P50, w.P99)
		}
		if isAgentMode(w.Mode) != (w.Refreshes >= 0) {
			t.Errorf("%s: refreshes %d; want a count for asyncmon modes only", w.Mode, w.Refreshes)
		}
		// The attached crowd reads, and the agent serves every read.
		if attached := w.Mode == modeAttached; attached != (w.Attached > 0) || w.AttachedErrors != 0 {
			t.Errorf("%s at %d parked: attached clients read %d times, %d failed; want reads in mode attached only, and no failure",
				w.Mode, w.Parked, w.Attached, w.AttachedErrors)
		}
	}
	rs := analyse(ws)
	if want := len(cfg.Parked) * (len(cfg.Modes) + 1); len(rs) != want {
		t.Fatalf("got %d results, want %d (every mode and the noise floor per parked count)", len(rs), want)
	}
	for _, r := range rs {
		for _, x := range r.Rounds {
			for name, v := range map[string]float64{"throughput": x.Throughput, "p50": x.P50, "p99": x.P99, "cpu": x.CPU} {
				if math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
					t.Errorf("%s at %d parked: %s ratio %v, want a positive finite ratio", r.Mode, r.Parked, name, v)
				}
			}
		}
	}
	var out bytes.Buffer
	report(&out, cfg, ws)
	for _, want := range []string{"### 500 parked goroutines", "| middleware |", "noise floor", "| attached |", "50 streams and 150 pollers"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// ratios is one mode's figures in one round divided by the round's
// no-monitoring baseline.
type ratios struct {
	Throughput, P50, P99, CPU float64
	Refreshes                 int
}

// result is one mode at one parked count over all rounds.
type result struct {
	Mode   string
	Parked int
	Rounds []ratios
}

// analyse turns windows into ratios: each round's windows are divided by
// the mean of that round's two "none" windows; the noise floor (mode
// "none") is the second none divided by the first.
func analyse(ws []window) []result {
	type key struct {
		parked, round int
	}
	nones := map[key][]window{}
	for _, w := range ws {
		if w.Mode == modeNone {
			k := key{w.Parked, w.Round}
			nones[k] = append(nones[k], w)
		}
	}
	byMode := map[string]*result{}
	var order []string
	add := func(mode string, parked int, r ratios) {
		id := fmt.Sprintf("%d/%s", parked, mode)
		res := byMode[id]
		if res == nil {
			res = &result{Mode: mode, Parked: parked}
			byMode[id] = res
			order = append(order, id)
		}
		res.Rounds = append(res.Rounds, r)
	}
	for _, w := range ws {
		base := nones[key{w.Parked, w.Round}]
		if len(base) < 2 {
			continue
		}
		if w.Mode == modeNone {
			if w == base[1] {
				add(modeNone, w.Parked, divide(base[1], base[0]))
			}
			continue
		}
		add(w.Mode, w.Parked, divide(w, mean(base[0], base[1])))
	}
	out := make([]result, 0, len(order))
	for _, id := range order {
		out = append(out, *byMode[id])
	}
	return out
}

func mean(a, b window) window {
	return window{
		Requests: (a.Requests + b.Requests) / 2,
		Seconds:  (a.Seconds + b.Seconds) / 2,
		CPU:      (a.CPU + b.CPU) / 2,
		P50:      (a.P50 + b.P50) / 2,
		P99:      (a.P99 + b.P99) / 2,
	}
}

func divide(w, base window) ratios {
	return ratios{
		Throughput: ratio(w.throughput(), base.throughput()),
		P50:        ratio(float64(w.P50), float64(base.P50)),
		P99:        ratio(float64(w.P99), float64(base.P99)),
		CPU:        ratio(w.cpuPerRequest(), base.cpuPerRequest()),
		Refreshes:  w.Refreshes,
	}
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

// report prints one table per parked count: median (min–max) of each
// ratio over the rounds.
func report(w io.Writer, cfg config, ws []window) {
	fmt.Fprintf(w, "cost: %d rounds, %v windows after %v warmup, %d connections, %d SHA-256 rounds per request\n",
		cfg.Rounds, cfg.Window, cfg.Warmup, cfg.Conc, cfg.Hashing)
	rs := analyse(ws)
	for _, parked := range cfg.Parked {
		fmt.Fprintf(w, "\n### %d parked goroutines\n\n", parked)
		for _, b := range ws {
			if b.Parked == parked && b.Mode == modeNone {
				fmt.Fprintf(w, "no monitoring (first run): %.0f req/s, p50 %v, p99 %v, %.1f µs CPU per request\n\n",
					b.throughput(), b.P50.Round(time.Microsecond), b.P99.Round(time.Microsecond), b.cpuPerRequest()*1e6)
				break
			}
		}
		fmt.Fprintln(w, "| mode | throughput | p50 | p99 | CPU per request | group refreshes per window |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|")
		for _, r := range rs {
			if r.Parked != parked {
				continue
			}
			name := r.Mode
			if name == modeNone {
				name = "none vs none (noise floor)"
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", name,
				spread(r.Rounds, func(x ratios) float64 { return x.Throughput }),
				spread(r.Rounds, func(x ratios) float64 { return x.P50 }),
				spread(r.Rounds, func(x ratios) float64 { return x.P99 }),
				spread(r.Rounds, func(x ratios) float64 { return x.CPU }),
				refreshes(r.Rounds))
		}
		for _, b := range ws {
			if b.Parked == parked && b.Mode == modeAttached {
				fmt.Fprintf(w, "\nattached (round %d): %d streams and %d pollers read %d times in the window, %d failed\n",
					b.Round, attachedStreams, attachedPollers, b.Attached, b.AttachedErrors)
			}
		}
	}
}

// spread is "median (min–max)" of f over rs.
func spread(rs []ratios, f func(ratios) float64) string {
	v := make([]float64, 0, len(rs))
	for _, r := range rs {
		v = append(v, f(r))
	}
	slices.Sort(v)
	med := v[len(v)/2]
	if len(v)%2 == 0 {
		med = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	if len(v) == 1 {
		return fmt.Sprintf("%.2f", med)
	}
	return fmt.Sprintf("%.2f (%.2f–%.2f)", med, v[0], v[len(v)-1])
}

func refreshes(rs []ratios) string {
	var s []string
	for _, r := range rs {
		if r.Refreshes < 0 {
			return "–"
		}
		s = append(s, fmt.Sprint(r.Refreshes))
	}
	return strings.Join(s, ", ")
}

// quantile is the q-quantile of ds (sorted in place); 0 for none.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[min(len(ds)-1, int(q*float64(len(ds))))]
}

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// window is what one measured window of one service saw.
type window struct {
	Mode      string        `json:"mode"`
	Parked    int           `json:"parked"`
	Round     int           `json:"round"`
	Requests  int           `json:"requests"`
	Errors    int           `json:"errors"`
	Seconds   float64       `json:"seconds"`
	CPU       float64       `json:"cpu_seconds"` // the service's user+system CPU in the window
	P50, P99  time.Duration `json:"-"`
	P50Micros float64       `json:"p50_us"`
	P99Micros float64       `json:"p99_us"`
	// Refreshes is the number of goroutine group-table refreshes whose
	// time fell in the window (asyncmon modes only; -1 otherwise).
	Refreshes int `json:"refreshes"`
	// Scrapes and TableReads count the sidecar's successful GETs of
	// /metrics and /api/v1/goroutines in the window.
	Scrapes    int `json:"scrapes"`
	TableReads int `json:"table_reads"`
	// Attached counts the attached clients' successful reads in the
	// window (mode attached): stream events and JSON polls;
	// AttachedErrors their failures.
	Attached       int `json:"attached_reads"`
	AttachedErrors int `json:"attached_errors"`
}

// The crowd of the attached mode: SSE streams (the agent serves 64 at
// most) and JSON pollers, each reading once a second in turn.
const (
	attachedStreams = 50
	attachedPollers = 150
)

// attachedPaths are what the attached pollers read, in turn: what TUIs,
// dashboards and scripts read. /metrics is Prometheus's, which the
// sidecar already scrapes each second.
var attachedPaths = []string{
	"/api/v1/snapshot", "/api/v1/history?limit=5", "/api/v1/goroutines?limit=20",
	"/api/v1/findings", "/api/v1/connections?limit=5",
}

// attach runs n clients against the agent at base until ctx ends: the
// first attachedStreams hold /api/v1/stream open, the others poll
// attachedPaths once a second each. It counts reads and failures while
// measuring is set.
func attach(ctx context.Context, wg *sync.WaitGroup, base string, n int, measuring *atomic.Bool, reads, errs *atomic.Int64) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n, DisableCompression: true}}
	count := func(err error) {
		if !measuring.Load() || ctx.Err() != nil {
			return
		}
		if err != nil {
			errs.Add(1)
		} else {
			reads.Add(1)
		}
	}
	for i := range n {
		if i < attachedStreams {
			wg.Go(func() { count(stream(ctx, client, base+"/api/v1/stream", count)) })
			continue
		}
		wg.Go(func() {
			// Spread the pollers over the second.
			if !sleep(ctx, time.Duration(i)*time.Second/time.Duration(n)) {
				return
			}
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for k := i; ; k++ {
				count(get(ctx, client, base+attachedPaths[k%len(attachedPaths)]))
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		})
	}
}

// stream reads server-sent events from url until ctx ends, calling
// event(nil) for each; it returns the error that ended it (nil when ctx
// did).
func stream(ctx context.Context, c *http.Client, url string, event func(error)) error {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return ctxErr(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "data:") {
			event(nil)
		}
	}
	return ctxErr(ctx, sc.Err())
}

// ctxErr is err, or nil once ctx has ended (the error is then ours).
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func (w window) throughput() float64 { return float64(w.Requests) / w.Seconds }
func (w window) cpuPerRequest() float64 {
	if w.Requests == 0 {
		return 0
	}
	return w.CPU / float64(w.Requests)
}

// measure drives the service at base with conc keep-alive connections for
// warmup, then measures for dur, with a Prometheus-like scraper (GET
// /metrics every second) and a TUI-like reader (GET /api/v1/goroutines
// every 2 s) running throughout, and attached more clients (see attach).
func measure(ctx context.Context, base string, pid, conc, attached int, warmup, dur time.Duration) (window, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc + 2, DisableCompression: true}}
	defer client.CloseIdleConnections()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var measuring atomic.Bool
	var scrapes, reads atomic.Int64
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	sidecar := func(path string, every time.Duration, n *atomic.Int64) {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if get(ctx, client, base+path) == nil && measuring.Load() {
				n.Add(1)
			}
		}
	}
	wg.Go(func() { sidecar("/metrics", time.Second, &scrapes) })
	wg.Go(func() { sidecar("/api/v1/goroutines", 2*time.Second, &reads) })
	var attachedReads, attachedErrs atomic.Int64
	if attached > 0 {
		attach(ctx, &wg, base, attached, &measuring, &attachedReads, &attachedErrs)
	}

	lats := make([][]time.Duration, conc)
	errs := make([]int, conc)
	for i := range conc {
		wg.Go(func() {
			for ctx.Err() == nil {
				start := time.Now()
				err := get(ctx, client, base+"/work")
				if !measuring.Load() || ctx.Err() != nil {
					continue
				}
				if err != nil {
					errs[i]++
					continue
				}
				lats[i] = append(lats[i], time.Since(start))
			}
		})
	}
	if !sleep(ctx, warmup) {
		return window{}, ctx.Err()
	}
	cpu0, err := processCPU(pid)
	if err != nil {
		return window{}, err
	}
	start := time.Now()
	measuring.Store(true)
	ok := sleep(ctx, dur)
	measuring.Store(false)
	elapsed := time.Since(start)
	cpu1, err := processCPU(pid)
	if err != nil {
		return window{}, err
	}
	cancel()
	wg.Wait()
	if !ok {
		return window{}, context.Canceled
	}
	var all []time.Duration
	w := window{Seconds: elapsed.Seconds(), CPU: cpu1 - cpu0, Refreshes: -1,
		Scrapes: int(scrapes.Load()), TableReads: int(reads.Load()),
		Attached: int(attachedReads.Load()), AttachedErrors: int(attachedErrs.Load())}
	for i := range conc {
		all = append(all, lats[i]...)
		w.Errors += errs[i]
	}
	w.Requests = len(all)
	w.P50, w.P99 = quantile(all, 0.5), quantile(all, 0.99)
	w.P50Micros, w.P99Micros = float64(w.P50)/1e3, float64(w.P99)/1e3
	return w, nil
}

// get fetches url and discards the body; a status other than 200 and
// 404 (a mode without that endpoint) is an error.
func get(ctx context.Context, c *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

// refreshesIn counts the distinct group-table times in the agent's
// history that fall in [from, to].
func refreshesIn(base string, from, to time.Time) (int, error) {
	since := time.Since(from).Round(time.Second) + time.Second
	resp, err := http.Get(base + "/api/v1/history?since=" + since.String())
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("history: %s", resp.Status)
	}
	var snaps []struct {
		GroupsTime time.Time `json:"groups_time"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&snaps); err != nil {
		return 0, fmt.Errorf("history: %w", err)
	}
	seen := map[time.Time]bool{}
	for _, s := range snaps {
		if !s.GroupsTime.Before(from) && !s.GroupsTime.After(to) {
			seen[s.GroupsTime] = true
		}
	}
	return len(seen), nil
}

// processCPU is pid's user+system CPU time in seconds, from
// /proc/PID/stat (Linux).
func processCPU(pid int) (float64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name is in parentheses and may hold spaces; fields
	// after it start at state (field 3). utime and stime are 14 and 15.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("parse %s: no command name", "/proc/"+strconv.Itoa(pid)+"/stat")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("parse /proc/%d/stat: %d fields", pid, len(f))
	}
	ut, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parse /proc/%d/stat: utime %q stime %q", pid, f[11], f[12])
	}
	return (ut + st) / clockTicks, nil
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on
// every Linux architecture Go supports.
const clockTicks = 100

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

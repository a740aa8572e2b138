package agent

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/agent/capture"
	"github.com/asyncmon/asyncmon/model"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// forward's and handOver's goroutines leak on purpose, unreachably,
	// so that the runtime's goroutineleak profile can prove it (see
	// findings_leakprofile_test.go); nothing can free them.
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/asyncmon/asyncmon/agent.forward"),
		goleak.IgnoreTopFunction("github.com/asyncmon/asyncmon/agent.handOver"))
}

// start starts an agent on a free loopback port, closed with the test.
func start(t *testing.T, opts Options) *Agent {
	t.Helper()
	if opts.Addr == "" && !opts.NoListen {
		opts.Addr = "127.0.0.1:0"
	}
	a, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return a
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestZeroOptionsBindLoopbackDefault(t *testing.T) {
	// The zero value must work and bind loopback only; if the default
	// port is taken on this machine, Start must say so instead.
	a, err := Start(context.Background(), Options{})
	if err != nil {
		if !strings.Contains(err.Error(), DefaultAddr) {
			t.Fatalf("Start error %q does not name the address %s", err, DefaultAddr)
		}
		t.Logf("default port busy here: %v", err)
		return
	}
	defer a.Close()
	if a.Addr() != DefaultAddr {
		t.Errorf("Addr() = %q, want %q", a.Addr(), DefaultAddr)
	}
}

func TestSnapshotEndpoint(t *testing.T) {
	a := start(t, Options{Interval: 50 * time.Millisecond})
	code, body := get(t, "http://"+a.Addr()+"/api/v1/snapshot")
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	var s model.Snapshot
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("snapshot is not JSON: %v", err)
	}
	if s.Seq == 0 || s.Goroutines.Total == 0 || s.Process.PID == 0 || len(s.Collectors) < 2 {
		t.Errorf("snapshot looks empty: seq %d goroutines %d pid %d collectors %d",
			s.Seq, s.Goroutines.Total, s.Process.PID, len(s.Collectors))
	}
	for _, key := range []string{`"latency_p99_seconds"`, `"probe_lag_p99_seconds"`, `"runnable"`, `"waiting"`} {
		if !strings.Contains(body, key) {
			t.Errorf("snapshot JSON lacks %s", key)
		}
	}
}

func TestBadInput(t *testing.T) {
	a := start(t, Options{})
	base := "http://" + a.Addr()
	tests := []struct {
		name     string
		path     string
		wantCode int
		wantMsg  string
	}{
		{"unknown path", "/api/v1/nope", 404, "no such endpoint"},
		{"bad since", "/api/v1/history?since=yesterday", 400, "since"},
		{"negative duration", "/api/v1/history?since=-5s", 400, "since"},
		{"bad limit", "/api/v1/history?limit=0", 400, "limit"},
		{"unknown parameter", "/api/v1/snapshot?verbose=1", 400, "unknown query parameter"},
		{"good history", "/api/v1/history?since=1m&limit=5", 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := get(t, base+tt.path)
			if code != tt.wantCode {
				t.Fatalf("got status %d, want %d (%s)", code, tt.wantCode, body)
			}
			if tt.wantCode != 200 {
				var e struct{ Error string }
				if err := json.Unmarshal([]byte(body), &e); err != nil || !strings.Contains(e.Error, tt.wantMsg) {
					t.Errorf("got body %q, want a JSON error mentioning %q", body, tt.wantMsg)
				}
			}
		})
	}
}

func TestBusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	a, err := Start(context.Background(), Options{Addr: ln.Addr().String()})
	if err == nil {
		a.Close()
		t.Fatal("Start on a busy port succeeded, want an error")
	}
	if !strings.Contains(err.Error(), ln.Addr().String()) {
		t.Errorf("error %q does not name the address", err)
	}
}

func TestHistoryIsBounded(t *testing.T) {
	a := start(t, Options{Interval: 10 * time.Millisecond, History: 50 * time.Millisecond})
	deadline := time.Now().Add(5 * time.Second)
	for a.Latest().Seq < 20 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := len(a.Window(0).Snapshots); n != 5 {
		t.Errorf("history holds %d snapshots, want 5 (50ms at 10ms)", n)
	}
	w := a.Window(0).Snapshots
	for i := 1; i < len(w); i++ {
		if w[i].Seq != w[i-1].Seq+1 {
			t.Errorf("history out of order: seq %d after %d", w[i].Seq, w[i-1].Seq)
		}
	}
}

func TestMetrics(t *testing.T) {
	a := start(t, Options{})
	code, body := get(t, "http://"+a.Addr()+"/metrics")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	for _, name := range []string{
		"asyncmon_sched_latency_seconds_bucket",
		"asyncmon_sched_probe_lag_seconds_bucket",
		"asyncmon_sched_latency_window_seconds{quantile=\"0.99\"}",
		"asyncmon_goroutines{state=\"runnable\"}",
		"go_sched_goroutines_runnable_goroutines",
		"go_sched_latencies_seconds",
		"process_open_fds",
		"asyncmon_collector_duration_seconds{collector=\"scheduler\"}",
	} {
		if !strings.Contains(body, name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	// 23 fine buckets (22 bounds and +Inf), against the Go collector's few.
	if n := strings.Count(body, "asyncmon_sched_latency_seconds_bucket{"); n != len(model.LatencyBuckets())+1 {
		t.Errorf("got %d latency buckets, want %d", n, len(model.LatencyBuckets())+1)
	}
	problems, err := testutil.GatherAndLint(a.Registry())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "asyncmon_") {
			t.Errorf("lint: %s: %s", p.Metric, p.Text)
		}
	}
}

func TestStreamSendsEverySnapshot(t *testing.T) {
	a := start(t, Options{Interval: 20 * time.Millisecond})
	resp, err := http.Get("http://" + a.Addr() + "/api/v1/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<22)
	var seqs []uint64
	for len(seqs) < 3 && sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			var s model.Snapshot
			if err := json.Unmarshal([]byte(data), &s); err != nil {
				t.Fatal(err)
			}
			seqs = append(seqs, s.Seq)
		}
	}
	if len(seqs) < 3 || seqs[1] <= seqs[0] || seqs[2] <= seqs[1] {
		t.Errorf("stream seqs %v, want 3 increasing", seqs)
	}
}

// TestSlowStreamClientDoesNotBlock opens streams that never read and checks
// the agent keeps collecting and closes promptly.
func TestSlowStreamClientDoesNotBlock(t *testing.T) {
	// No budget: this test counts collections, and on a loaded machine
	// a 10 ms interval would otherwise be stretched.
	a := start(t, Options{Interval: 10 * time.Millisecond, NoBudget: true})
	for range 3 {
		c, err := net.Dial("tcp", a.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, "GET /api/v1/stream HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
	}
	before := a.Latest().Seq
	deadline := time.Now().Add(15 * time.Second)
	for a.Latest().Seq < before+50 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := a.Latest().Seq; got < before+50 {
		t.Fatalf("agent advanced %d collections with stalled stream clients, want >= 50", got-before)
	}
	// Close must not wait for clients that never read. Without the fix it
	// hangs; the generous bound only turns a hang into a clear failure.
	closed := make(chan error, 1)
	go func() { closed <- a.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Close did not return with stalled stream clients still connected")
	}
}

func TestHandlerWithoutListener(t *testing.T) {
	a := start(t, Options{NoListen: true})
	if a.Addr() != "" {
		t.Errorf("Addr() = %q under NoListen, want empty", a.Addr())
	}
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	code, body := get(t, srv.URL+"/healthz")
	if code != 200 || !strings.Contains(body, `"ok"`) {
		t.Errorf("healthz: %d %s", code, body)
	}
	code, _ = get(t, srv.URL+"/debug/pprof/goroutine?debug=1")
	if code != 200 {
		t.Errorf("pprof goroutine: status %d", code)
	}
}

type panicky struct{ calls int }

func (p *panicky) Name() string { return "panicky" }
func (p *panicky) Collect(ctx context.Context, s *model.Snapshot) error {
	p.calls++
	panic("boom")
}

type failing struct{}

func (failing) Name() string { return "failing" }
func (failing) Collect(ctx context.Context, s *model.Snapshot) error {
	s.ByWaitReason = map[string]int{"partial": 1}
	return io.ErrUnexpectedEOF
}

func TestFailingCollectorsAreContained(t *testing.T) {
	p := &panicky{}
	a := start(t, Options{Interval: 10 * time.Millisecond, Collectors: []model.Collector{p, failing{}}})
	deadline := time.Now().Add(5 * time.Second)
	for a.Latest().Seq < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	s := a.Latest()
	byName := map[string]model.CollectorStatus{}
	for _, c := range s.Collectors {
		byName[c.Name] = c
	}
	if c := byName["panicky"]; c.PanicsTotal < 3 || !strings.Contains(c.Err, "boom") {
		t.Errorf("panicky status = %+v, want panics counted with the message", c)
	}
	if c := byName["failing"]; c.ErrorsTotal < 3 || c.Err != io.ErrUnexpectedEOF.Error() {
		t.Errorf("failing status = %+v", c)
	}
	if c := byName["scheduler"]; c.Err != "" || s.Scheduler.ProbePeriod == 0 {
		t.Errorf("scheduler affected by others: %+v", c)
	}
	if s.ByWaitReason["partial"] != 1 {
		t.Error("a failing collector's partial output was dropped")
	}
}

func TestCloseIsIdempotent(t *testing.T) {
	a, err := Start(context.Background(), Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	addr := a.Addr()
	done := make(chan error, 2)
	go func() { done <- a.Close() }()
	go func() { done <- a.Close() }()
	for range 2 {
		if err := <-done; err != nil {
			t.Errorf("Close: %v", err)
		}
	}
	if err := a.Close(); err != nil {
		t.Errorf("third Close: %v", err)
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Error("listener still accepts after Close")
	}
}

// slow is a collector that takes d of wall time without using CPU, like
// one starved of CPU or waiting on I/O.
type slow struct{ d time.Duration }

func (s slow) Name() string { return "slow" }
func (s slow) Collect(ctx context.Context, _ *model.Snapshot) error {
	select {
	case <-time.After(s.d):
	case <-ctx.Done():
	}
	return nil
}

func waitSeq(t *testing.T, a *Agent, seq uint64) *model.Snapshot {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for a.Latest().Seq < seq && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	return a.Latest()
}

func TestNextWait(t *testing.T) {
	tests := []struct {
		name   string
		budget float64
		cycles []time.Duration
		want   time.Duration
	}{
		{"cheap cycles keep the interval", 0.02, []time.Duration{time.Millisecond}, time.Second - time.Millisecond},
		{"expensive cycle stretches", 0.02, []time.Duration{50 * time.Millisecond}, 2500*time.Millisecond - 50*time.Millisecond},
		{"stretch is capped", 0.02, []time.Duration{900 * time.Millisecond}, 10*time.Second - 900*time.Millisecond},
		{"no budget", -1, []time.Duration{500 * time.Millisecond}, 500 * time.Millisecond},
		{"one burst is averaged", 0.02, []time.Duration{time.Millisecond, 81 * time.Millisecond}, time.Second - 81*time.Millisecond}, // average 11ms: within budget
		{"a cycle longer than the interval waits zero", -1, []time.Duration{2 * time.Second}, 0},
		{"a slow but cheap cycle keeps the interval", 0.02, nil, time.Second - 300*time.Millisecond},
	}
	for _, tt := range tests {
		a := &Agent{interval: time.Second, budget: tt.budget}
		var got, wall time.Duration
		for _, c := range tt.cycles {
			got, wall = a.nextWait(c, c), c // CPU-bound cycles: cost equals wall time
		}
		if tt.cycles == nil { // a cycle that waited 300 ms using 1 ms of CPU
			got, wall = a.nextWait(time.Millisecond, 300*time.Millisecond), 300*time.Millisecond
		}
		if got != tt.want {
			t.Errorf("%s: nextWait = %v, want %v", tt.name, got, tt.want)
		}
		if stretched := tt.budget > 0 && got+wall > time.Second; a.stretched != stretched {
			t.Errorf("%s: stretched = %v, want %v", tt.name, a.stretched, stretched)
		}
	}
}

// TestCloseCancelsProfilesInFlight: a long CPU or wall-clock profile in
// flight must not hold Close up, nor leave its sampler running after it.
// TestMain's goleak check fails if anything is left.
func TestCloseCancelsProfilesInFlight(t *testing.T) {
	a, err := Start(context.Background(), Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, path := range []string{"/debug/fgprof?seconds=60", "/debug/pprof/profile?seconds=60"} {
		wg.Go(func() {
			resp, err := http.Get("http://" + a.Addr() + path)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	time.Sleep(300 * time.Millisecond) // let both start sampling
	// The profiles asked for 60 s (the cap); Close must end them, not wait
	// them out. The bound, half their length, tells the two apart; it is
	// not a latency figure.
	done := make(chan error, 1)
	go func() {
		err := a.Close()
		wg.Wait()
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Close with profiles in flight: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Close did not end the 60 s profiles in flight")
	}
}

// TestAbandonedFgprofStops: a client that gives up on a wall-clock
// profile must stop the sampling, not leave it running for ?seconds.
func TestAbandonedFgprofStops(t *testing.T) {
	a := start(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+a.Addr()+"/debug/fgprof?seconds=60", nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		var buf [1 << 16]byte
		n := runtime.Stack(buf[:], true)
		if !strings.Contains(string(buf[:n]), "fgprof") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("fgprof still sampling 5s after the client left:\n%s", buf[:n])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAPIErrorsAreJSON(t *testing.T) {
	a := start(t, Options{})
	base := "http://" + a.Addr()
	tests := []struct {
		method, path string
		wantCode     int
		wantMsg      string
	}{
		{"POST", "/api/v1/snapshot", 405, "read-only"},
		{"DELETE", "/api/v1/nope", 405, "read-only"},
		{"GET", "/debug/fgprof?seconds=abc", 400, "seconds"},
		{"GET", "/debug/fgprof?seconds=100000", 400, "seconds"},
		{"GET", "/debug/fgprof?format=svg", 400, "format"},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, base+tt.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var e struct{ Error string }
		if resp.StatusCode != tt.wantCode || json.Unmarshal(body, &e) != nil || !strings.Contains(e.Error, tt.wantMsg) {
			t.Errorf("%s %s: %d %s, want %d with a JSON error about %q", tt.method, tt.path, resp.StatusCode, body, tt.wantCode, tt.wantMsg)
		}
	}
}

func TestHistoryStreamsValidJSON(t *testing.T) {
	a := start(t, Options{Interval: 10 * time.Millisecond, NoBudget: true})
	waitSeq(t, a, 5)
	for _, q := range []string{"", "?limit=2", "?since=2000-01-01T00:00:00Z"} {
		code, body := get(t, "http://"+a.Addr()+"/api/v1/history"+q)
		var snaps []model.Snapshot
		if code != 200 || json.Unmarshal([]byte(body), &snaps) != nil || len(snaps) == 0 {
			t.Errorf("history%s: %d, %d snapshots from %.100s", q, code, len(snaps), body)
		}
		if q == "?limit=2" && len(snaps) != 2 {
			t.Errorf("limit=2 gave %d snapshots", len(snaps))
		}
	}
	code, body := get(t, "http://"+a.Addr()+"/api/v1/history?since=2999-01-01T00:00:00Z")
	if code != 200 || strings.TrimSpace(body) != "[]" {
		t.Errorf("history from the future: %d %q, want []", code, body)
	}
}

func TestFindingsUnknownDetectorIs400(t *testing.T) {
	a := start(t, Options{})
	code, body := get(t, "http://"+a.Addr()+"/api/v1/findings?detector=bogus")
	if code != http.StatusBadRequest || !strings.Contains(body, "goroutine-leak") {
		t.Errorf("detector=bogus: %d %s; want 400 listing the detectors that run", code, body)
	}
	if code, _ := get(t, "http://"+a.Addr()+"/api/v1/findings?detector=goroutine-leak"); code != 200 {
		t.Errorf("detector=goroutine-leak: %d, want 200", code)
	}
}

// TestBudgetSaysWhatItSkipped: a collection that reuses the goroutine
// table (its refresh budget said to wait) marks the collector skipped and
// counts it; one that refreshed it does not.
func TestBudgetSaysWhatItSkipped(t *testing.T) {
	a := start(t, Options{Interval: time.Hour})
	var skips uint64
	for range 5 { // refreshes are at least 2 s apart: most of these reuse
		a.collect(context.Background())
		s := a.Latest()
		var c model.CollectorStatus
		for _, st := range s.Collectors {
			if st.Name == "goroutines" {
				c = st
			}
		}
		reused := s.GroupsTime.Before(s.Time)
		if reused {
			skips++
		}
		if c.Skipped != reused || c.SkippedTotal != skips {
			t.Errorf("table reused %v: collector skipped %v, total %d; want %v, %d", reused, c.Skipped, c.SkippedTotal, reused, skips)
		}
	}
	if skips == 0 {
		t.Errorf("5 collections in a row all refreshed the table, want most to reuse it")
	}
}

// TestStartRejectsNegativeOptions: "off" is said with a NoX field, so a
// negative number is a mistake (it used to mean "off" for some fields)
// and Start says which field.
func TestStartRejectsNegativeOptions(t *testing.T) {
	_, err := Start(context.Background(), Options{NoListen: true, CPUBudget: -1, Capture: capture.Options{CPUProfile: -time.Second}})
	if err == nil || !strings.Contains(err.Error(), "Options.CPUBudget") || !strings.Contains(err.Error(), "Options.Capture.CPUProfile") {
		t.Fatalf("Start with negative options: %v, want an error naming CPUBudget and Capture.CPUProfile", err)
	}
}

// TestAgentGoroutinesLabelledAtCreation: every goroutine the agent starts,
// the scheduler's timer probe (started inside Start) among them, carries
// the agent's pprof label, which detectors use to leave them out.
func TestAgentGoroutinesLabelledAtCreation(t *testing.T) {
	a := start(t, Options{Capture: capture.Options{Dir: t.TempDir()}})
	// A request, so that a server connection goroutine exists too.
	resp, err := http.Get("http://" + a.Addr() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 1); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{
		"collectors.(*Scheduler).probe": false,
		"agent.(*Agent).loop":           false,
		"(*Capturer).Run":               false,
		"net/http.(*Server).Serve":      false,
	}
	for rec := range strings.SplitSeq(buf.String(), "\n\n") {
		for fn := range want {
			if !strings.Contains(rec, fn) {
				continue
			}
			want[fn] = true
			if !strings.Contains(rec, `"`+model.AgentLabel+`":"agent"`) {
				t.Errorf("goroutine in %s has no agent label:\n%s", fn, rec)
			}
		}
	}
	for fn, seen := range want {
		if !seen {
			t.Errorf("no goroutine in %s found", fn)
		}
	}
}

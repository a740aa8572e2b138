package agent

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asyncmon/asyncmon/agent/capture"
	"github.com/asyncmon/asyncmon/agent/internal/api"
	"github.com/asyncmon/asyncmon/agent/internal/crashreport"
	"github.com/asyncmon/asyncmon/agent/internal/limits"
	"github.com/asyncmon/asyncmon/collectors"
	"github.com/asyncmon/asyncmon/collectors/conns"
	"github.com/asyncmon/asyncmon/collectors/goroutines"
	"github.com/asyncmon/asyncmon/findings"
	"github.com/asyncmon/asyncmon/internal/broker"
	"github.com/asyncmon/asyncmon/internal/cputime"
	"github.com/asyncmon/asyncmon/internal/registry"
	"github.com/asyncmon/asyncmon/internal/ring"
	"github.com/asyncmon/asyncmon/model"
	"github.com/prometheus/client_golang/prometheus"
)

// DefaultAddr is where the agent listens when Options.Addr is empty:
// loopback only, so nothing is exposed beyond the host unless asked.
const DefaultAddr = "127.0.0.1:7071"

const (
	defaultInterval = time.Second
	defaultHistory  = 10 * time.Minute
	// defaultCPUBudget is 1% of one core: 10 ms per 1 s interval, about
	// 200 times what a cycle of the built-in collectors costs when the
	// goroutine table is not refreshed (docs/perf.md). A refresh, which
	// the goroutine collector spaces within its own 1% budget, is counted
	// too, so at large goroutine counts both budgets space the work.
	defaultCPUBudget = 0.01
	// maxStretch bounds how far the budget may stretch the interval.
	maxStretch = 10
	// maxHistory bounds Options.History/Interval: a day at 1 s.
	maxHistory = 86400
	// shutdownTimeout is how long Close waits for HTTP requests in flight.
	shutdownTimeout = 2 * time.Second

	// Server timeouts. writeTimeout covers ordinary responses; the
	// streaming ones set their own deadline per request.
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 16 << 10
)

// Recommended values for Options.BlockProfileRate and
// Options.MutexProfileFraction. Neither profile is turned on unless asked,
// because both settings are process-wide; docs/perf.md has what they cost.
const (
	// DefaultBlockProfileRate samples, on average, one blocking event per
	// 10 µs spent blocked, so every wait of 10 µs or more is recorded.
	// Any rate makes the runtime timestamp every blocking operation,
	// which is why the block profile is off by default.
	DefaultBlockProfileRate = 10_000
	// DefaultMutexProfileFraction records one contention event in 10;
	// the runtime scales the samples back up. The mutex profile costs
	// only on contended unlocks.
	DefaultMutexProfileFraction = 10
)

// Options configures an Agent. The zero value is ready to use.
//
// One convention turns things off: a feature that is on by default has a
// bool field NoX that turns it off. Numbers are never negative: a zero
// duration, rate or budget means its default, and Start rejects a negative
// one.
type Options struct {
	// Serving the API.

	// Addr is where the API listens: a TCP address such as
	// "127.0.0.1:7071" ("127.0.0.1:0" for a free loopback port), or a
	// Unix socket "unix:/path", created with mode 0600 (on Linux, each
	// connection's peer must also be this process's user or root). A
	// TCP address beyond loopback (":7071", "0.0.0.0:7071", a public
	// IP) needs Token, TokenFile or TLS client certificates: without,
	// Start fails with ErrTokenRequired. Optional. Default DefaultAddr
	// (loopback only).
	Addr string
	// Token, when set, is required on every endpoint but /healthz as
	// "Authorization: Bearer <Token>", compared in constant time. It is
	// never logged. Optional. Default "": no token (then only loopback
	// or a Unix socket may be bound).
	Token string
	// TokenFile names a file holding the token (surrounding white space
	// trimmed), read once at Start; set Token or TokenFile, not both.
	// Optional. Default "".
	TokenFile string
	// TLSConfig, when set, serves the whole API over TLS with this
	// configuration (it needs Certificates or GetCertificate). Set its
	// ClientAuth to tls.RequireAndVerifyClientCert and ClientCAs to
	// admit only clients with a certificate: that counts as credentials
	// for a bind beyond loopback, with or without a Token. Optional.
	// Default nil: plain HTTP.
	TLSConfig *tls.Config
	// NoPprof switches off the profiling endpoints, /debug/pprof/* and
	// /debug/fgprof: they reveal memory contents and cost CPU. Optional.
	// Default false.
	NoPprof bool
	// NoTrace switches off /debug/pprof/trace, the execution trace,
	// alone. Optional. Default false.
	NoTrace bool
	// NoCaptureEndpoints switches off /api/v1/captures and its downloads (the
	// evidence files hold goroutine dumps and profiles). Captures are
	// still taken unless NoCapture. Optional. Default false.
	NoCaptureEndpoints bool
	// MaxExpensive bounds the profile, trace, full dump and capture
	// download requests served at once; past it the API answers 429
	// with Retry-After. Optional. Default 2.
	MaxExpensive int
	// NoListen makes Start bind nothing; serve Handler from your own
	// server instead. Optional. Default false.
	NoListen bool
	// Logger receives the agent's own logs. Optional. Default nil: silent.
	Logger *slog.Logger

	// Collection.

	// Interval is the time between two collections. Optional. Default 1 s.
	// Values under 10 ms are raised to 10 ms.
	Interval time.Duration
	// History is how far back snapshots are kept. Optional. Default 10
	// minutes, i.e. 600 snapshots at the default interval. Memory grows
	// with what a snapshot holds, chiefly goroutine groups and tracked
	// connections (docs/perf.md has measured figures); a shorter History
	// bounds it further.
	History time.Duration
	// CPUBudget is the share of one core that collection may use on
	// average, e.g. 0.01 for 1%. A cycle's cost is the CPU time of the
	// collecting thread (wall time outside Linux). When cycles cost more
	// than CPUBudget×Interval, the agent waits longer before the next one
	// (up to 10×Interval), so an expensive collector slows sampling
	// instead of loading the host. A cycle that is slow but cheap, as in
	// a process starved of CPU, does not slow sampling. Every snapshot
	// stays complete; its IntervalSeconds shows the actual interval and
	// BudgetStretched says the budget made the agent wait, also counted
	// in asyncmon_collection_stretched_total. Optional. Default 0.01.
	CPUBudget float64
	// NoBudget collects every Interval whatever a cycle costs. Optional.
	// Default false.
	NoBudget bool
	// ProbePeriod is how often the scheduler's timer probe wakes.
	// Optional. Default 5 ms.
	ProbePeriod time.Duration
	// NoProbe runs no timer probe: the scheduler latency then comes from
	// the runtime's histogram alone. Optional. Default false.
	NoProbe bool
	// BlockProfileRate, when positive, turns on the runtime's block
	// profile (runtime.SetBlockProfileRate, process-wide) while the
	// agent runs; Close turns it off again. Optional. Default 0: leave
	// it as the process set it. DefaultBlockProfileRate is the
	// recommended value.
	BlockProfileRate int
	// MutexProfileFraction, when positive, sets
	// runtime.SetMutexProfileFraction while the agent runs; Close
	// restores the previous value. Optional. Default 0: leave it as the
	// process set it. DefaultMutexProfileFraction is the recommended
	// value.
	MutexProfileFraction int
	// Collectors are extra collectors, run after the built-in ones at
	// every interval. Optional.
	Collectors []model.Collector
	// Conns is the connection tracker to report. Optional. Default: the
	// agent's own, reachable with Agent.Conns and the Agent's wrapper
	// shortcuts (WrapListener, HTTPTransport, OpenDB, TrackDB).
	Conns *conns.Tracker
	// Requests configures the tracking of requests in flight through
	// [Agent.Middleware]. Optional.
	Requests collectors.RequestsOptions

	// Findings.

	// Detectors run over the history after every collection. Optional.
	// Default detectors.Defaults() (starvation, goroutine leak, deadlock,
	// stuck requests, connection leaks).
	Detectors []model.Detector
	// NoDetectors runs no detectors at all, not even the defaults.
	// Optional. Default false.
	NoDetectors bool
	// Lifecycle sets the findings' lifecycle per detector (silence, a
	// raised level, for/clear/cooldown durations) and their retention.
	// Optional. Default: each detector's own rule.
	Lifecycle findings.Config
	// Capture configures the evidence captured when a finding fires.
	// Optional. Default: on, in $TMPDIR/asyncmon-captures-<pid>, bounded.
	Capture capture.Options
	// NoCapture captures no evidence when findings fire. Optional.
	// Default false.
	NoCapture bool

	// Crash reports.

	// Crash configures the keeping of crash reports: the runtime's
	// output of a fatal crash is kept and reported at the next start.
	// Optional. Default: in the user's state directory (see CrashOptions
	// for where, and for what it changes process-wide).
	Crash CrashOptions
	// NoCrash leaves the runtime's crash output alone: no crash reports
	// are kept or reported. Optional. Default false.
	NoCrash bool
}

// validate rejects negative numbers: "off" is said with a NoX field.
func (o *Options) validate() error {
	var bad []string
	for _, f := range []struct {
		name string
		neg  bool
	}{
		{"Interval", o.Interval < 0},
		{"History", o.History < 0},
		{"CPUBudget", o.CPUBudget < 0},
		{"ProbePeriod", o.ProbePeriod < 0},
		{"BlockProfileRate", o.BlockProfileRate < 0},
		{"MutexProfileFraction", o.MutexProfileFraction < 0},
		{"Capture.MaxFiles", o.Capture.MaxFiles < 0},
		{"Capture.MaxBytes", o.Capture.MaxBytes < 0},
		{"Capture.Every", o.Capture.Every < 0},
		{"Capture.CPUProfile", o.Capture.CPUProfile < 0},
		{"Capture.TraceWindow", o.Capture.TraceWindow < 0},
		{"MaxExpensive", o.MaxExpensive < 0},
		{"Crash.Keep", o.Crash.Keep < 0},
	} {
		if f.neg {
			bad = append(bad, f.name)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("negative Options.%s: zero means the default, and a NoX field turns a feature off", strings.Join(bad, ", Options."))
	}
	return nil
}

// Agent collects diagnostics in the background and serves them. Its
// methods are safe for concurrent use.
type Agent struct {
	interval time.Duration
	budget   float64       // share of one core; 0 means no budget
	cost     time.Duration // moving average of a cycle's CPU time; loop only
	// stretched is true when the last wait was longer than the interval
	// because of the budget; loop only (read by the collect it calls).
	stretched bool
	log       *slog.Logger
	cols      []*collectorState
	closers   []io.Closer
	conns     *conns.Tracker
	// goroutines is the built-in group table collector, kept for full
	// dumps on request (/api/v1/goroutines?full=1).
	goroutines *goroutines.Collector

	mu      sync.RWMutex // guards history and seq
	history *ring.Ring[*model.Snapshot]
	seq     uint64

	stream      *broker.Broker[*model.Snapshot]
	registry    *prometheus.Registry
	handler     http.Handler
	collections atomic.Uint64
	// cycleCPU is the CPU time of all cycles the loop ran (nanoseconds);
	// stretches counts the waits the budget made longer than the
	// interval.
	cycleCPU  atomic.Int64
	stretches atomic.Uint64
	detection *detection
	requests  *collectors.Requests
	panics    *collectors.Panics
	// crash is the previous run's crash found at start, nil if none.
	crash *model.Crash

	ln  net.Listener
	srv *http.Server
	// token is the required bearer token, nil for none.
	token []byte
	// cnt counts the bounds hit and the requests denied.
	cnt *limits.Counters
	// api is the HTTP API (agent/internal/api) that handler serves.
	api *api.API

	// ctx is cancelled by Close: it ends the loop, collections in
	// flight and open streams.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// colTimeout overrides collectorTimeout when positive (tests).
	colTimeout atomic.Int64
	closeOnce  sync.Once
	closeErr   error

	// reg is the local registry entry (see internal/registry), nil if none.
	reg *registry.Registration
}

// collectorState is the agent's bookkeeping for one collector. It is only
// touched by the collection goroutine (and Start, before it runs).
type collectorState struct {
	c       model.Collector
	errors  uint64
	panics  uint64
	skipped uint64
	// running is set while the collector's goroutine runs; a collector
	// still running from an earlier cycle (hung) is skipped.
	running atomic.Bool
	// hungSince is when the collector last timed out; loop only.
	hungSince time.Time
	// finished is closed when the collector's latest run returns; set
	// by the loop before the run starts.
	finished chan struct{}
}

// collectorResult is what a collector's run hands back to the loop.
type collectorResult struct {
	err   error
	panic any
	stack []byte
	cost  time.Duration // CPU time on the collector's thread
}

// Start starts an agent: it binds the listener (unless NoListen), takes a
// first snapshot, and collects every Options.Interval until Close. ctx
// bounds only the start-up: the agent runs until Close, whatever happens
// to ctx afterwards.
//
// Start returns an error if the address cannot be bound, for example
// because the port is already in use.
func Start(ctx context.Context, opts Options) (a *Agent, err error) {
	// Every goroutine Start starts (the collection loop, the scheduler's
	// timer probe, the API server and its connections, the capture worker,
	// the flight recorder) inherits the agent's pprof label from its first
	// instruction: detectors and profiles tell the agent's goroutines
	// apart by it, without lists of function names.
	pprof.Do(ctx, ownLabels(), func(ctx context.Context) {
		a, err = newAgent(ctx, opts)
	})
	return a, err
}

// ownLabels are the pprof labels of every goroutine the agent starts.
func ownLabels() pprof.LabelSet { return pprof.Labels(model.AgentLabel, "agent") }

// newAgent is Start, run with the agent's label set.
func newAgent(ctx context.Context, opts Options) (*Agent, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("asyncmon: start: %w", err)
	}
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("asyncmon: %w", err)
	}
	a := &Agent{
		interval: opts.Interval,
		log:      opts.Logger,
	}
	a.ctx, a.cancel = context.WithCancel(context.Background())
	if a.interval <= 0 {
		a.interval = defaultInterval
	}
	a.budget = opts.CPUBudget
	if a.budget == 0 {
		a.budget = defaultCPUBudget
	}
	if opts.NoBudget {
		a.budget = 0
	}
	a.interval = max(a.interval, 10*time.Millisecond)
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	hist := opts.History
	if hist <= 0 {
		hist = defaultHistory
	}
	a.history = ring.New[*model.Snapshot](min(max(int(hist/a.interval), 1), maxHistory))
	a.cnt = limits.New()
	a.stream = broker.New[*model.Snapshot](api.MaxSubscribers)
	tok, err := loadToken(opts)
	if err != nil {
		a.cancel()
		return nil, err
	}
	a.token = tok
	if opts.TLSConfig != nil && len(opts.TLSConfig.Certificates) == 0 && opts.TLSConfig.GetCertificate == nil && opts.TLSConfig.GetConfigForClient == nil {
		a.cancel()
		return nil, errors.New("asyncmon: Options.TLSConfig has no certificate (set Certificates or GetCertificate)")
	}

	if !opts.NoListen {
		addr := opts.Addr
		if addr == "" {
			addr = DefaultAddr
		}
		ln, err := api.Listen(ctx, addr, a.token != nil || clientCertAuth(opts.TLSConfig), a.cnt, a.log)
		if err != nil {
			a.cancel()
			return nil, err
		}
		if opts.TLSConfig != nil {
			cfg := opts.TLSConfig.Clone()
			if len(cfg.NextProtos) == 0 {
				cfg.NextProtos = []string{"http/1.1"}
			}
			ln = tls.NewListener(ln, cfg)
		}
		a.ln = ln
	}

	probe := opts.ProbePeriod
	if opts.NoProbe {
		probe = -1 // the scheduler collector's "no probe"
	}
	sched := collectors.NewScheduler(collectors.SchedulerOptions{ProbePeriod: probe})
	a.addBuiltin(sched)
	a.addBuiltin(collectors.NewRuntime())
	a.goroutines = goroutines.NewCollector(goroutines.Options{Logger: opts.Logger})
	a.addBuiltin(a.goroutines)
	a.addBuiltin(collectors.NewBlocking(collectors.BlockingOptions{
		BlockProfileRate:     opts.BlockProfileRate,
		MutexProfileFraction: opts.MutexProfileFraction,
		Logger:               opts.Logger,
	}))
	// After the goroutine groups, which the tracker reads (see the order in
	// model.Collector's doc).
	a.initConns(opts)
	a.panics = collectors.NewPanics()
	for _, c := range opts.Collectors {
		if c != nil {
			a.cols = append(a.cols, &collectorState{c: c})
		}
	}

	a.registry = prometheus.NewRegistry()
	if err := registerMetrics(a.registry, a); err != nil {
		a.cancel()
		a.closeAll()
		return nil, fmt.Errorf("asyncmon: metrics: %w", err)
	}
	if err := a.startFindings(opts); err != nil {
		a.cancel()
		a.closeAll()
		return nil, fmt.Errorf("asyncmon: %w", err)
	}
	a.api = a.newAPI(opts)
	a.handler = a.api.Handler() // behind the access checks: token and bounded bodies
	if !opts.NoCrash {
		a.initCrash(opts.Crash)
		a.saveCrashCapture()
	}
	a.cols = append(a.cols, &collectorState{c: crashreport.Collector{Crash: a.crash}})

	a.collect(ctx) // so Latest is never nil once Start returns

	a.wg.Go(a.loop)
	if a.ln != nil {
		a.srv = &http.Server{
			Handler: a.handler,
			// Every response has a write deadline; the streaming ones
			// (profiles, traces, the event stream) extend theirs per
			// request with http.ResponseController.
			ReadHeaderTimeout: readHeaderTimeout,
			ReadTimeout:       readTimeout,
			WriteTimeout:      writeTimeout,
			IdleTimeout:       idleTimeout,
			MaxHeaderBytes:    maxHeaderBytes,
			ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelDebug),
			// Requests live in the agent's context: Close cancels
			// profiles and streams in flight instead of waiting them out.
			BaseContext: func(net.Listener) context.Context { return a.ctx },
		}
		a.wg.Go(func() {
			if err := a.srv.Serve(a.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				a.log.Error("serve failed", "addr", a.ln.Addr().String(), "err", err)
			}
		})
		a.log.Info("agent started", "addr", a.Addr(), "interval", a.interval,
			"token", a.token != nil, "tls", opts.TLSConfig != nil) // never the token itself
		if reg, err := registry.Register(a.Addr()); err != nil {
			a.log.Warn("local registration failed; asyncmon ls will not list this agent", "err", err)
		} else {
			a.reg = reg
		}
	}
	return a, nil
}

// addBuiltin adds a collector the agent owns: Close closes it if it has a
// Close method. Collectors passed in Options belong to the caller.
func (a *Agent) addBuiltin(c model.Collector) {
	a.cols = append(a.cols, &collectorState{c: c})
	if cl, ok := c.(io.Closer); ok {
		a.closers = append(a.closers, cl)
	}
}

// Addr returns the address the API listens on, "unix:/path" for a Unix
// socket, or "" under NoListen.
func (a *Agent) Addr() string {
	if a.ln == nil {
		return ""
	}
	if u, ok := a.ln.Addr().(*net.UnixAddr); ok {
		return api.UnixPrefix + u.Name
	}
	return a.ln.Addr().String()
}

// Handler returns the agent's HTTP API, for mounting on a service's own
// server. Mount it at the root, or strip the prefix with http.StripPrefix.
func (a *Agent) Handler() http.Handler { return a.handler }

// Registry returns the Prometheus registry behind /metrics, so a service
// can gather asyncmon's metrics into its own exposition.
func (a *Agent) Registry() *prometheus.Registry { return a.registry }

// Latest returns the newest snapshot. It is never nil after Start. The
// snapshot must not be modified.
func (a *Agent) Latest() *model.Snapshot {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.history.Len() == 0 {
		return nil
	}
	return a.history.At(a.history.Len() - 1)
}

// Window returns the snapshots of the last d (all of the history for d <=
// 0), oldest first. The snapshots must not be modified.
func (a *Agent) Window(d time.Duration) model.Window {
	a.mu.RLock()
	all := a.history.Slice(0)
	a.mu.RUnlock()
	w := model.Window{Snapshots: all}
	if d > 0 && len(all) > 0 {
		w = w.Since(all[len(all)-1].Time.Add(-d))
	}
	return w
}

// loop collects every interval until Close, waiting longer when the
// budget says so.
func (a *Agent) loop() {
	t := time.NewTimer(a.interval)
	defer t.Stop()
	for {
		select {
		case <-a.ctx.Done():
			return
		case <-t.C:
			start := time.Now()
			var extra time.Duration
			cost := cputime.Cost(func() { extra = a.collect(a.ctx) })
			if cputime.PerThread {
				cost += extra // the collectors ran on threads of their own
			}
			a.cycleCPU.Add(int64(cost))
			t.Reset(a.nextWait(cost, time.Since(start)))
			if a.stretched {
				a.stretches.Add(1)
			}
		}
	}
}

// nextWait folds a cycle's CPU cost into the moving average and returns
// the wait before the next cycle: the interval, stretched so that the
// average cost stays within the budget, at most maxStretch times. The
// wait is counted from the end of the cycle, so the cycle's own wall
// time is already spent. Cost is CPU time, not wall time: a process
// starved of CPU makes collection slow, not expensive, and that is when
// sampling must go on.
func (a *Agent) nextWait(cost, wall time.Duration) time.Duration {
	if a.cost == 0 {
		a.cost = cost
	} else {
		a.cost = (a.cost*7 + cost) / 8 // EWMA, alpha 1/8: a burst does not stretch at once
	}
	wait := a.interval
	a.stretched = false
	if a.budget > 0 {
		if w := time.Duration(float64(a.cost) / a.budget); w > wait {
			wait, a.stretched = w, true
		}
	}
	return max(min(wait, maxStretch*a.interval)-wall, 0)
}

// collect takes one snapshot, stores it and publishes it. It returns the
// CPU time the collectors used on their own threads.
func (a *Agent) collect(ctx context.Context) (cost time.Duration) {
	snap := &model.Snapshot{Time: time.Now(), BudgetStretched: a.stretched}
	prev := a.Latest()
	if prev != nil {
		snap.IntervalSeconds = snap.Time.Sub(prev.Time).Seconds()
	}
	cctx, cancel := context.WithTimeout(ctx, a.interval)
	defer cancel()
	snap.Collectors = make([]model.CollectorStatus, 0, len(a.cols))
	var hung []string
	for _, cs := range a.cols {
		st, c := a.runCollector(cctx, cs, snap)
		snap.Collectors = append(snap.Collectors, st)
		cost += c
		if cs.running.Load() {
			hung = append(hung, st.Name)
		}
	}
	if snap.GroupsTruncated {
		a.cnt.Hit(LimitGroups)
	}
	if snap.Connections.Truncated {
		a.cnt.Hit(LimitConns)
	}
	a.detect(snap)
	snap.Agent = a.status()
	snap.Agent.HungCollectors = hung
	a.mu.Lock()
	a.seq++
	snap.Seq = a.seq
	a.history.Push(snap)
	a.mu.Unlock()
	a.collections.Add(1)
	a.stream.Publish(snap)
	return cost
}

// status returns the agent's own health counts.
func (a *Agent) status() model.AgentStatus {
	st := a.cnt.Status()
	add := func(limit string, n uint64) {
		if n == 0 {
			return
		}
		if st.LimitsHit == nil {
			st.LimitsHit = map[string]uint64{}
		}
		st.LimitsHit[limit] = n
	}
	add(LimitStreamClients, a.stream.Refused())
	add(LimitStreamDropped, a.stream.Dropped())
	if a.detection != nil {
		add(LimitFindings, a.detection.engine.Dropped())
		if a.detection.capture != nil {
			cs := a.detection.capture.Stats()
			add(LimitCaptureRate, cs.RateLimited)
			add(LimitCaptureQueue, cs.QueueFull)
			add(LimitCaptureFailed, cs.Failed)
			add(LimitCaptureEvicted, cs.Evicted)
		}
	}
	return st
}

// collectorTimeout is how long a collection waits for one collector
// before abandoning it: collectors should honour their context, which
// ends after an interval, but one blocked in a call that ignores it (a
// sql.DB.Stats behind a held lock, a stuck file system) must not stall
// collection. The floor leaves room for a slow goroutine table refresh
// on a loaded machine.
func (a *Agent) collectorTimeout() time.Duration {
	if d := time.Duration(a.colTimeout.Load()); d > 0 {
		return d
	}
	return max(minCollectorTimeout, 5*a.interval)
}

// minCollectorTimeout is collectorTimeout's floor: a goroutine profile of
// 100k goroutines under the race detector on a loaded machine takes
// several seconds, and a collector abandoned while merely slow loses
// its run.
const minCollectorTimeout = 30 * time.Second

// runCollector runs one collector on a goroutine of its own, recovering a
// panic into its status. The collector writes a copy of snap, copied back
// when it returns in time; one that does not is abandoned with its copy
// (so it never races with the published snapshot), counted, and skipped
// until it returns.
func (a *Agent) runCollector(ctx context.Context, cs *collectorState, snap *model.Snapshot) (st model.CollectorStatus, cost time.Duration) {
	st.Name = cs.c.Name()
	defer func() { st.ErrorsTotal, st.PanicsTotal, st.SkippedTotal = cs.errors, cs.panics, cs.skipped }()
	if cs.running.Load() {
		st.Skipped = true
		cs.skipped++
		st.Err = fmt.Sprintf("hung: has not returned for %s; skipped until it does", time.Since(cs.hungSince).Round(time.Second))
		return st, 0
	}
	start := time.Now()
	scratch := *snap
	done := make(chan collectorResult, 1)
	finished := make(chan struct{})
	cs.finished = finished
	cs.running.Store(true)
	go func() { // inherits the agent's pprof label from the loop (or Start)
		var r collectorResult
		defer func() {
			if p := recover(); p != nil {
				r.panic, r.stack = p, debug.Stack()
			}
			cs.running.Store(false)
			done <- r
			close(finished)
		}()
		r.cost = cputime.Cost(func() { r.err = cs.c.Collect(ctx, &scratch) })
	}()
	t := time.NewTimer(a.collectorTimeout())
	defer t.Stop()
	select {
	case r := <-done:
		st.DurationSeconds = time.Since(start).Seconds()
		*snap = scratch
		switch {
		case r.panic != nil:
			cs.panics++
			cs.errors++
			st.Err = fmt.Sprintf("panic: %v", r.panic)
			a.log.Error("collector panicked", "collector", st.Name, "panic", r.panic, "stack", string(r.stack))
		case r.err != nil:
			cs.errors++
			st.Err = r.err.Error()
			a.log.Debug("collector failed", "collector", st.Name, "err", r.err)
		}
		// The goroutine collector refreshes its table only when its own
		// CPU budget allows; a table older than this collection was reused.
		if cs.c == model.Collector(a.goroutines) && !snap.GroupsTime.IsZero() && snap.GroupsTime.Before(snap.Time) {
			st.Skipped = true
			cs.skipped++
		}
		return st, r.cost
	case <-t.C:
		st.DurationSeconds = time.Since(start).Seconds()
		cs.errors++
		cs.hungSince = start
		a.cnt.Hit(LimitCollectorTimeout)
		st.Err = fmt.Sprintf("timed out after %s (it ignores its context); skipped until it returns", a.collectorTimeout())
		a.log.Error("collector timed out", "collector", st.Name, "timeout", a.collectorTimeout())
		return st, 0
	}
}

// Close logs what did not drain (see [Agent.Undrained]), stops
// collecting, shuts the API down (waiting up to two seconds for requests
// in flight), closes the collectors that need it and joins every
// goroutine the agent started. It is idempotent and safe to call
// concurrently; later calls return the first call's result.
func (a *Agent) Close() error {
	a.closeOnce.Do(func() {
		a.Undrained()
		if err := a.reg.Unregister(); err != nil {
			a.log.Warn("local unregistration failed", "err", err)
		}
		a.cancel()
		var errs []error
		if a.srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
			if err := a.srv.Shutdown(ctx); err != nil {
				errs = append(errs, err, a.srv.Close())
			}
			cancel()
		}
		a.wg.Wait()
		a.joinHung()
		errs = append(errs, a.closeAll())
		a.closeErr = errors.Join(errs...)
		a.log.Info("agent closed")
	})
	return a.closeErr
}

func (a *Agent) closeAll() error {
	var errs []error
	for _, c := range a.closers {
		errs = append(errs, c.Close())
	}
	if a.ln != nil && a.srv == nil {
		errs = append(errs, a.ln.Close())
	}
	return errors.Join(errs...)
}

// joinHung waits, up to shutdownTimeout in all, for the collectors
// abandoned as hung; the loop has ended, so no other run is in flight.
// A collector still blocked after that is left behind, logged: nothing
// can stop a call that ignores its context.
func (a *Agent) joinHung() {
	t := time.NewTimer(shutdownTimeout)
	defer t.Stop()
	for _, cs := range a.cols {
		if cs.finished == nil {
			continue
		}
		select {
		case <-cs.finished:
		case <-t.C:
			a.log.Error("a hung collector did not return; closing without it", "collector", cs.c.Name())
			return
		}
	}
}

package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asyncmon/asyncmon/agent"
	"github.com/asyncmon/asyncmon/model"
)

// DefaultAddr is where the demo service listens by default.
const DefaultAddr = "127.0.0.1:8080"

const (
	defaultWorkers  = 8
	defaultLoadRate = 50 // requests per second
	cacheTTL        = 3 * time.Second
	downstreamTO    = 500 * time.Millisecond
)

// Options configures Start. The zero value runs the healthy service on
// DefaultAddr with the agent on agent.DefaultAddr.
type Options struct {
	// Addr is the service's listen address. Optional. Default DefaultAddr.
	Addr string
	// AgentAddr is the agent's listen address. Optional. Default
	// agent.DefaultAddr.
	AgentAddr string
	// Scenario names the faults to inject: a scenario name, "healthy"
	// or "all". Optional. Default "healthy".
	Scenario string
	// LoadRate is the load generator's requests per second; negative
	// turns it off. Optional. Default 50.
	LoadRate float64
	// Agent adds to the options of the embedded agent (its Addr is
	// AgentAddr). Optional.
	Agent agent.Options
	// Logger receives the demo's logs. Optional. Default silent.
	Logger *slog.Logger
}

// Demo is a running demo service.
type Demo struct {
	agent      *agent.Agent
	srv        *http.Server
	ln         net.Listener
	downstream *http.Server
	dsLn       net.Listener
	client     *http.Client
	log        *slog.Logger
	scenarios  []Scenario

	jobs  chan job
	cache *cache

	served atomic.Uint64
	failed atomic.Uint64

	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

type job struct {
	ctx  context.Context
	item int
	resp chan result
}

type result struct {
	price float64
	err   error
}

// Start starts the agent, the downstream service, the service itself, its
// workers and load generator, and the chosen scenarios.
func Start(ctx context.Context, opts Options) (*Demo, error) {
	scs, err := ParseScenario(opts.Scenario)
	if err != nil {
		return nil, err
	}
	d := &Demo{log: opts.Logger, scenarios: scs, jobs: make(chan job), cache: newCache()}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	d.ctx, d.cancel = context.WithCancel(context.Background())

	ao := opts.Agent
	ao.Addr = opts.AgentAddr
	if ao.Logger == nil {
		ao.Logger = d.log.With("component", "agent")
	}
	// The demo shows contention, so it turns the block and mutex
	// profiles on at the measured-cheap rates; an embedding service
	// opts in the same way.
	if ao.BlockProfileRate == 0 {
		ao.BlockProfileRate = agent.DefaultBlockProfileRate
	}
	if ao.MutexProfileFraction == 0 {
		ao.MutexProfileFraction = agent.DefaultMutexProfileFraction
	}
	d.agent, err = agent.Start(ctx, ao)
	if err != nil {
		d.cancel()
		return nil, err
	}
	fail := func(err error) (*Demo, error) {
		d.Close()
		return nil, err
	}

	var lc net.ListenConfig
	d.dsLn, err = lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return fail(fmt.Errorf("demo: downstream listen: %w", err))
	}
	addr := opts.Addr
	if addr == "" {
		addr = DefaultAddr
	}
	d.ln, err = lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fail(fmt.Errorf("demo: listen on %s: %w", addr, err))
	}
	d.ln = d.agent.WrapListener(d.ln) // tracked: listed in /api/v1/connections
	d.client = &http.Client{
		Timeout:   downstreamTO,
		Transport: d.agent.HTTPTransport(&http.Transport{MaxIdleConnsPerHost: 32, IdleConnTimeout: 30 * time.Second}),
	}

	dsMux := http.NewServeMux()
	dsMux.HandleFunc("GET /price", d.handlePrice)
	d.downstream = &http.Server{Handler: dsMux, ReadHeaderTimeout: 5 * time.Second}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/quote", d.handleQuote)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	env := &Env{Mux: mux, d: d}
	d.srv = &http.Server{Handler: d.agent.Middleware(mux), ReadHeaderTimeout: 5 * time.Second,
		// net/http logs handler panics here: to the demo's log, not
		// stderr, which the TUI owns.
		ErrorLog: slog.NewLogLogger(d.log.Handler(), slog.LevelWarn)}

	for range defaultWorkers {
		d.wg.Go(d.worker)
	}
	d.wg.Go(d.janitor)
	d.wg.Go(func() { serve(d.downstream, d.dsLn, d.log) })
	for _, sc := range scs {
		if err := sc.Run(env); err != nil {
			return fail(fmt.Errorf("demo: scenario %s: %w", sc.Name, err))
		}
	}
	d.wg.Go(func() { serve(d.srv, d.ln, d.log) })

	rate := opts.LoadRate
	if rate == 0 {
		rate = defaultLoadRate
	}
	if rate > 0 {
		d.wg.Go(func() { d.load(rate, "/api/quote", func() string { return "item=" + strconv.Itoa(rand.IntN(100)) }) })
	}
	d.log.Info("demo started", "addr", d.Addr(), "agent", d.agent.Addr(), "scenario", scenarioNames(scs))
	return d, nil
}

func serve(srv *http.Server, ln net.Listener, log *slog.Logger) {
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("serve failed", "addr", ln.Addr().String(), "err", err)
	}
}

// Addr is the service's address.
func (d *Demo) Addr() string { return d.ln.Addr().String() }

// URL is the service's base URL.
func (d *Demo) URL() string { return "http://" + d.Addr() }

// Agent is the embedded agent.
func (d *Demo) Agent() *agent.Agent { return d.agent }

// Served returns how many quote requests succeeded and failed so far.
func (d *Demo) Served() (ok, failed uint64) { return d.served.Load(), d.failed.Load() }

// Close stops the load, the scenarios, the service and the agent, and
// joins every goroutine the demo started. It is idempotent.
func (d *Demo) Close() error {
	d.closeOnce.Do(func() {
		d.cancel()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		var errs []error
		for _, s := range []*http.Server{d.srv, d.downstream} {
			if s == nil {
				continue
			}
			if err := s.Shutdown(ctx); err != nil {
				errs = append(errs, s.Close())
			}
		}
		if d.srv == nil && d.ln != nil {
			d.ln.Close()
		}
		d.wg.Wait()
		if d.client != nil {
			d.client.CloseIdleConnections()
		}
		errs = append(errs, d.agent.Close())
		d.closeErr = errors.Join(errs...)
	})
	return d.closeErr
}

// handleQuote hands the request to the worker pool and waits for it.
func (d *Demo) handleQuote(w http.ResponseWriter, r *http.Request) {
	item, err := strconv.Atoi(r.URL.Query().Get("item"))
	if err != nil || item < 0 {
		http.Error(w, "item: want a non-negative integer", http.StatusBadRequest)
		return
	}
	j := job{ctx: r.Context(), item: item, resp: make(chan result, 1)}
	select {
	case d.jobs <- j:
	case <-r.Context().Done():
		return
	case <-time.After(time.Second):
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	select {
	case res := <-j.resp:
		if res.err != nil {
			http.Error(w, res.err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"item": item, "price": res.price})
	case <-r.Context().Done():
	}
}

// worker serves jobs from the pool's queue until the demo stops. Idle
// workers park on the channel receive: normal, and not a leak.
func (d *Demo) worker() {
	for {
		select {
		case <-d.ctx.Done():
			return
		case j := <-d.jobs:
			p, err := d.price(j.ctx, j.item)
			j.resp <- result{price: p, err: err}
		}
	}
}

// price returns the cached price or asks the downstream service.
func (d *Demo) price(ctx context.Context, item int) (float64, error) {
	if p, ok := d.cache.get(item); ok {
		return p, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		"http://"+d.dsLn.Addr().String()+"/price?item="+strconv.Itoa(item), nil)
	if err != nil {
		return 0, err
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("downstream: %w", err)
	}
	defer resp.Body.Close()
	var v struct{ Price float64 }
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return 0, fmt.Errorf("downstream: %w", err)
	}
	d.cache.put(item, v.Price)
	return v.Price, nil
}

// handlePrice is the downstream service: a price after 1–3 ms of "work".
func (d *Demo) handlePrice(w http.ResponseWriter, r *http.Request) {
	item, _ := strconv.Atoi(r.URL.Query().Get("item"))
	t := time.NewTimer(time.Millisecond + rand.N(2*time.Millisecond))
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"price": 10 + float64(item)/4})
}

// janitor evicts expired cache entries on a ticker.
func (d *Demo) janitor() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-d.ctx.Done():
			return
		case now := <-t.C:
			d.cache.evict(now)
		}
	}
}

// load sends rate requests per second to path, from a few keep-alive
// clients, until the demo stops.
func (d *Demo) load(rate float64, path string, query func() string) {
	interval := time.Duration(float64(time.Second) / rate)
	t := time.NewTicker(interval)
	defer t.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	sem := make(chan struct{}, 16) // at most 16 requests in flight
	for {
		select {
		case <-d.ctx.Done():
			return
		case <-t.C:
		}
		select {
		case sem <- struct{}{}:
		default:
			continue // the service is slow: shed load rather than pile up
		}
		url := d.URL() + path + "?" + query()
		wg.Go(func() {
			defer func() { <-sem }()
			if d.get(url) {
				d.served.Add(1)
			} else {
				d.failed.Add(1)
			}
		})
	}
}

func (d *Demo) get(url string) bool {
	req, err := http.NewRequestWithContext(d.ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var v json.RawMessage
	_ = json.NewDecoder(resp.Body).Decode(&v)
	return resp.StatusCode == http.StatusOK
}

// cache is a price cache behind a mutex, with a TTL.
type cache struct {
	mu sync.Mutex // guards m
	m  map[int]cacheEntry
}

type cacheEntry struct {
	price   float64
	expires time.Time
}

func newCache() *cache { return &cache{m: make(map[int]cacheEntry)} }

func (c *cache) get(item int) (float64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[item]
	if !ok || time.Now().After(e.expires) {
		return 0, false
	}
	return e.price, true
}

func (c *cache) put(item int, price float64) {
	c.mu.Lock()
	c.m[item] = cacheEntry{price: price, expires: time.Now().Add(cacheTTL)}
	c.mu.Unlock()
}

func (c *cache) evict(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.m {
		if now.After(e.expires) {
			delete(c.m, k)
		}
	}
}

// LogSummaries logs a one-line summary of the service and what its agent
// sees every period, until ctx ends.
func (d *Demo) LogSummaries(ctx context.Context, log *slog.Logger, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			log.Info("demo stopping")
			return
		case <-t.C:
			s := d.Agent().Latest()
			ok, failed := d.Served()
			log.Info("summary",
				"goroutines", s.Goroutines.Total,
				"runnable", s.Goroutines.Runnable,
				"sched_p99", model.FormatSeconds(s.Scheduler.LatencyP99),
				"probe_lag_p99", model.FormatSeconds(s.Scheduler.ProbeLagP99),
				"requests_ok", ok, "requests_failed", failed)
		}
	}
}

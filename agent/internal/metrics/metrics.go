// Package metrics derives asyncmon's Prometheus metrics from the agent's
// latest snapshot and its own counters, once per collection, and
// registers them with client_golang's Go and process collectors.
// docs/metrics.md lists them; a test in package agent fails when it is
// stale.
package metrics

import (
	"errors"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"time"

	"github.com/asyncmon/asyncmon/internal/promcache"
	"github.com/asyncmon/asyncmon/model"
	"github.com/prometheus/client_golang/prometheus"
	promcollectors "github.com/prometheus/client_golang/prometheus/collectors"
)

// Prometheus metric names are derived here, in one place, from the
// snapshot's fields: "asyncmon_" + subsystem + name + base unit, with
// "_total" on counters.
const namespace = "asyncmon"

// Source is what the metrics read from the agent. Its methods are called
// during a scrape (once per collection, see Register) and must be safe
// for concurrent use.
type Source interface {
	// Latest returns the newest snapshot, nil before the first.
	Latest() *model.Snapshot
	// Health returns the agent's own counters.
	Health() Health
	// Findings returns the detectors' counts; ok is false when detection
	// is off.
	Findings() (f Findings, ok bool)
}

// Health is the agent's own counters.
type Health struct {
	// Collections is the number of collections taken.
	Collections uint64
	// CycleCPU is the CPU time of all collection cycles.
	CycleCPU time.Duration
	// Stretches counts the waits the CPU budget made longer than the
	// interval.
	Stretches uint64
	// HistorySnapshots is the number of snapshots in the history.
	HistorySnapshots int
}

// Findings is the detectors' state as the metrics export it.
type Findings struct {
	// Detectors names every detector the engine runs.
	Detectors []string
	// Current are the engine's current findings, firing or resolved.
	Current []model.Finding
	// Fired counts the firings (and rises in level) per detector and
	// level.
	Fired map[LevelKey]uint64
	// Panics counts the recovered panics per detector.
	Panics map[string]uint64
}

// LevelKey labels a firing count.
type LevelKey struct {
	Detector string
	Level    model.Level
}

// Names are the bounded label values that always have a series, zeros
// included, so alert rules and dashboards see one before the first event.
type Names struct {
	// WaitReasons are the model's wait reasons.
	WaitReasons []string
	// Limits are the agent's bounds (agent.LimitNames).
	Limits []string
	// Denied are the reasons an API request is refused for its
	// credentials.
	Denied []string
}

// Register registers client_golang's Go collector (with the runtime's
// scheduler and GC metrics on), its process collector, and the asyncmon
// metrics derived from src's latest snapshot on reg. labels are the pprof
// labels of the agent's own goroutines, for the collection that runs on
// a scrape.
//
// The process collector and the asyncmon metrics are derived once per
// collection, not per scrape (see internal/promcache): the process collector
// alone reads five files under /proc, about as much CPU as everything
// else in a scrape together. The Go collector reads runtime/metrics, which
// is cheap, at scrape time as it does everywhere else.
func Register(reg *prometheus.Registry, src Source, labels pprof.LabelSet, names Names) error {
	latest := func() any { return src.Latest() }
	return errors.Join(
		reg.Register(promcollectors.NewGoCollector(promcollectors.WithGoCollectorRuntimeMetrics(
			promcollectors.MetricsScheduler, promcollectors.MetricsGC))),
		reg.Register(&promcache.Collector{Inner: promcollectors.NewProcessCollector(promcollectors.ProcessCollectorOpts{}), Key: latest, Labels: labels}),
		reg.Register(&promcache.Collector{Labels: labels, Inner: &snapshotCollector{src: src, sets: []metricSet{
			newCoreMetrics(),
			newGoroutineMetrics(names.WaitReasons),
			newFindingMetrics(),
			newConnMetrics(),
			newAgentMetrics(names.Limits, names.Denied),
			newFailureMetrics(),
		}}, Key: latest}),
	)
}

// metricSet is one group of asyncmon metrics derived from a snapshot.
// Descriptors are built in the constructor; collect only reads.
type metricSet interface {
	describe(ch chan<- *prometheus.Desc)
	collect(src Source, s *model.Snapshot, ch chan<- prometheus.Metric)
}

// snapshotCollector exposes the agent's latest snapshot. Collect reads one
// immutable snapshot, so it takes no lock beyond Latest's read lock and is
// safe for concurrent scrapes.
type snapshotCollector struct {
	src  Source
	sets []metricSet
}

func (c *snapshotCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, s := range c.sets {
		s.describe(ch)
	}
}

func (c *snapshotCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.src.Latest()
	if s == nil {
		return
	}
	for _, set := range c.sets {
		set.collect(c.src, s, ch)
	}
}

func newDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(namespace+"_"+name, help, labels, nil)
}

// coreMetrics are the agent core's metrics: scheduler, goroutines, GC and
// the agent's own health.
type coreMetrics struct {
	version                             string // asyncmon's module version, read once
	schedLatency, probeLag              *prometheus.Desc
	schedWindow, probeWindow            *prometheus.Desc
	pauseMax, mutexWait                 *prometheus.Desc
	goroutines, created                 *prometheus.Desc
	gcCPU, gcAssist                     *prometheus.Desc
	collections, colDuration, colErrors *prometheus.Desc
	colPanics, buildInfo, historySnaps  *prometheus.Desc
	colSkipped, cycleCPU, stretches     *prometheus.Desc
}

func newCoreMetrics() *coreMetrics {
	return &coreMetrics{
		version: moduleVersion(),
		schedLatency: newDesc("sched_latency_seconds",
			"Time goroutines spent runnable before running, from the runtime's /sched/latencies histogram, in fine buckets (1µs to 10s)."),
		probeLag: newDesc("sched_probe_lag_seconds",
			"How late the timer probe woke up compared with when it asked to: the delay a timer-driven goroutine sees."),
		schedWindow: newDesc("sched_latency_window_seconds",
			"Scheduling latency quantiles over the last collection interval (quantile 1 is the maximum); count and sum are cumulative."),
		probeWindow: newDesc("sched_probe_lag_window_seconds",
			"Timer probe lag quantiles over the last collection interval (quantile 1 is the maximum); count and sum are cumulative."),
		pauseMax: newDesc("sched_pause_max_seconds",
			"Longest stop-the-world pause in the last collection interval."),
		mutexWait: newDesc("mutex_wait_seconds_total",
			"Time goroutines spent blocked on sync.Mutex and sync.RWMutex, from /sync/mutex/wait/total."),
		goroutines: newDesc("goroutines",
			"Goroutines by scheduler state (Go 1.26+ runtime states).", "state"),
		created: newDesc("goroutines_created_total",
			"Goroutines created since the process started."),
		gcCPU: newDesc("gc_cpu_fraction",
			"Share of the available CPU used by the garbage collector over the last interval."),
		gcAssist: newDesc("gc_assist_cpu_fraction",
			"Share of the available CPU spent in GC mark assists by user goroutines over the last interval."),
		collections: newDesc("collections_total",
			"Collections the agent has taken."),
		colDuration: newDesc("collector_duration_seconds",
			"Wall time of each collector's last run.", "collector"),
		colErrors: newDesc("collector_errors_total",
			"Failed collector runs, panics included.", "collector"),
		colPanics: newDesc("collector_panics_total",
			"Collector runs that panicked and were recovered.", "collector"),
		colSkipped: newDesc("collector_skipped_total",
			"Collections in which a collector reused its previous result because its own CPU budget said to wait (the goroutine group table).", "collector"),
		cycleCPU: newDesc("collection_cpu_seconds_total",
			"CPU time of the agent's collection cycles (the collecting thread; its rate is the share of one core the agent spends collecting)."),
		stretches: newDesc("collection_stretched_total",
			"Waits between collections that the agent's CPU budget made longer than its interval."),
		historySnaps: newDesc("history_snapshots",
			"Snapshots held in the agent's history."),
		buildInfo: newDesc("build_info",
			"Always 1; labels carry the asyncmon module version and the Go version.", "version", "goversion"),
	}
}

func (m *coreMetrics) describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.schedLatency, m.probeLag, m.schedWindow, m.probeWindow,
		m.pauseMax, m.mutexWait, m.goroutines, m.created, m.gcCPU, m.gcAssist, m.collections,
		m.colDuration, m.colErrors, m.colPanics, m.colSkipped, m.cycleCPU, m.stretches, m.historySnaps, m.buildInfo} {
		ch <- d
	}
}

func (m *coreMetrics) collect(src Source, s *model.Snapshot, ch chan<- prometheus.Metric) {
	sc := s.Scheduler
	ch <- constHistogram(m.schedLatency, sc.LatencyHistogram)
	ch <- constHistogram(m.probeLag, sc.ProbeLagHistogram)
	// The window quantiles are summaries: quantiles over a recent window
	// plus cumulative count and sum, which is exactly a summary's contract.
	ch <- constSummary(m.schedWindow, sc.LatencyHistogram, map[float64]float64{
		0.5: sc.LatencyP50, 0.9: sc.LatencyP90, 0.99: sc.LatencyP99, 1: sc.LatencyMax})
	ch <- constSummary(m.probeWindow, sc.ProbeLagHistogram, map[float64]float64{
		0.5: sc.ProbeLagP50, 0.99: sc.ProbeLagP99, 1: sc.ProbeLagMax})
	ch <- prometheus.MustNewConstMetric(m.pauseMax, prometheus.GaugeValue, sc.PauseMax)
	ch <- prometheus.MustNewConstMetric(m.mutexWait, prometheus.CounterValue, sc.MutexWaitSecondsTotal)

	g := s.Goroutines
	for _, st := range []struct {
		state string
		n     int
	}{{"runnable", g.Runnable}, {"running", g.Running}, {"waiting", g.Waiting}, {"not_in_go", g.NotInGo}} {
		ch <- prometheus.MustNewConstMetric(m.goroutines, prometheus.GaugeValue, float64(st.n), st.state)
	}
	ch <- prometheus.MustNewConstMetric(m.created, prometheus.CounterValue, float64(g.CreatedTotal))
	ch <- prometheus.MustNewConstMetric(m.gcCPU, prometheus.GaugeValue, s.GC.CPUFraction)
	ch <- prometheus.MustNewConstMetric(m.gcAssist, prometheus.GaugeValue, s.GC.AssistFraction)

	h := src.Health()
	ch <- prometheus.MustNewConstMetric(m.collections, prometheus.CounterValue, float64(h.Collections))
	for _, c := range s.Collectors {
		ch <- prometheus.MustNewConstMetric(m.colDuration, prometheus.GaugeValue, c.DurationSeconds, c.Name)
		ch <- prometheus.MustNewConstMetric(m.colErrors, prometheus.CounterValue, float64(c.ErrorsTotal), c.Name)
		ch <- prometheus.MustNewConstMetric(m.colPanics, prometheus.CounterValue, float64(c.PanicsTotal), c.Name)
		ch <- prometheus.MustNewConstMetric(m.colSkipped, prometheus.CounterValue, float64(c.SkippedTotal), c.Name)
	}
	ch <- prometheus.MustNewConstMetric(m.cycleCPU, prometheus.CounterValue, h.CycleCPU.Seconds())
	ch <- prometheus.MustNewConstMetric(m.stretches, prometheus.CounterValue, float64(h.Stretches))
	ch <- prometheus.MustNewConstMetric(m.historySnaps, prometheus.GaugeValue, float64(h.HistorySnapshots))
	ch <- prometheus.MustNewConstMetric(m.buildInfo, prometheus.GaugeValue, 1, m.version, runtime.Version())
}

// constHistogram turns a model histogram into a Prometheus classic one.
// A malformed histogram becomes an invalid metric (reported by the
// registry) rather than a panic.
func constHistogram(d *prometheus.Desc, h model.Histogram) prometheus.Metric {
	buckets := make(map[float64]uint64, len(h.Bounds))
	var cum uint64
	for i, b := range h.Bounds {
		if i < len(h.Counts) {
			cum += h.Counts[i]
		}
		buckets[b] = cum
	}
	m, err := prometheus.NewConstHistogram(d, h.Count, h.Sum, buckets)
	if err != nil {
		return prometheus.NewInvalidMetric(d, err)
	}
	return m
}

// constSummary builds a summary from window quantiles and a cumulative
// histogram's count and sum.
func constSummary(d *prometheus.Desc, h model.Histogram, q map[float64]float64) prometheus.Metric {
	m, err := prometheus.NewConstSummary(d, h.Count, h.Sum, q)
	if err != nil {
		return prometheus.NewInvalidMetric(d, err)
	}
	return m
}

// moduleVersion is asyncmon's module version as built into the binary, or
// "devel" when built from a checkout.
func moduleVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, dep := range bi.Deps {
		if dep.Path == "github.com/asyncmon/asyncmon" {
			return dep.Version
		}
	}
	if bi.Main.Path == "github.com/asyncmon/asyncmon" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

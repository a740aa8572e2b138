package metrics

import (
	"cmp"
	"path"
	"slices"
	"strconv"

	"github.com/asyncmon/asyncmon/model"
	"github.com/prometheus/client_golang/prometheus"
)

// TopGroupSeries bounds asyncmon_goroutine_group_goroutines: only the
// largest site × wait reason pairs get a series, so a process with
// thousands of groups exports at most this many.
const TopGroupSeries = 20

// goroutineMetrics are the goroutine group and blocking metrics.
type goroutineMetrics struct {
	waitReasons                      []string
	byWait, groups, groupSize        *prometheus.Desc
	blockDelay, blockEvents          *prometheus.Desc
	mutexDelay, mutexEvents          *prometheus.Desc
	blockSiteDelay, mutexSiteDelay   *prometheus.Desc
	blockRate, mutexFraction, tblAge *prometheus.Desc
	tblCost                          *prometheus.Desc
}

func newGoroutineMetrics(waitReasons []string) *goroutineMetrics {
	return &goroutineMetrics{
		waitReasons: waitReasons,
		byWait: newDesc("goroutines_by_wait_reason",
			"Goroutines per normalised wait reason, from the latest goroutine group table (bounded set of reasons).", "reason"),
		groups: newDesc("goroutine_groups",
			"Goroutine groups (creation site or start function × wait reason × top user frames) in the latest table."),
		groupSize: newDesc("goroutine_group_goroutines",
			"Goroutines per site (the group's innermost user frame) and wait reason, for the 20 largest only.", "site", "wait_reason"),
		tblAge: newDesc("goroutine_groups_timestamp_seconds",
			"Unix time the latest goroutine group table was taken (it refreshes within a CPU budget)."),
		tblCost: newDesc("goroutine_groups_refresh_seconds",
			"Wall time the last goroutine group table refresh took (the next waits for it divided by the 1% CPU budget)."),
		blockDelay: newDesc("block_delay_seconds_total",
			"Time goroutines spent blocked (channels, select, sync), from the block profile, scaled for its sampling."),
		blockEvents: newDesc("block_events_total",
			"Blocking events recorded by the block profile, scaled for its sampling."),
		mutexDelay: newDesc("mutex_delay_seconds_total",
			"Delay that contended mutexes caused to waiters, from the mutex profile, scaled for its sampling."),
		mutexEvents: newDesc("mutex_events_total",
			"Contention events recorded by the mutex profile, scaled for its sampling."),
		blockSiteDelay: newDesc("block_site_delay_seconds",
			"Blocking delay at the top blocking sites over the last collection window.", "site"),
		mutexSiteDelay: newDesc("mutex_site_delay_seconds",
			"Mutex contention delay caused at the top sites (where the lock was released) over the last window.", "site"),
		blockRate: newDesc("block_profile_rate",
			"runtime.SetBlockProfileRate in force as far as asyncmon knows (0: off)."),
		mutexFraction: newDesc("mutex_profile_fraction",
			"runtime.SetMutexProfileFraction in force (0: off)."),
	}
}

func (m *goroutineMetrics) describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.byWait, m.groups, m.groupSize, m.tblAge, m.tblCost, m.blockDelay, m.blockEvents,
		m.mutexDelay, m.mutexEvents, m.blockSiteDelay, m.mutexSiteDelay, m.blockRate, m.mutexFraction} {
		ch <- d
	}
}

func (m *goroutineMetrics) collect(_ Source, s *model.Snapshot, ch chan<- prometheus.Metric) {
	if !s.GroupsTime.IsZero() {
		// Every reason always has a series, so rates and alerts see a
		// zero rather than a gap.
		for _, r := range m.waitReasons {
			ch <- prometheus.MustNewConstMetric(m.byWait, prometheus.GaugeValue, float64(s.ByWaitReason[r]), r)
		}
		ch <- prometheus.MustNewConstMetric(m.groups, prometheus.GaugeValue, float64(max(s.GroupsTotal, len(s.Groups))))
		ch <- prometheus.MustNewConstMetric(m.tblAge, prometheus.GaugeValue, float64(s.GroupsTime.UnixNano())/1e9)
		ch <- prometheus.MustNewConstMetric(m.tblCost, prometheus.GaugeValue, s.GroupsCostSeconds)
		type key struct{ site, wait string }
		sizes := make(map[key]int)
		for _, g := range s.Groups {
			sizes[key{siteLabel(g.Site()), g.WaitReason}] += g.Count
		}
		keys := make([]key, 0, len(sizes))
		for k := range sizes {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b key) int {
			if c := cmp.Compare(sizes[b], sizes[a]); c != 0 {
				return c
			}
			return cmp.Or(cmp.Compare(a.site, b.site), cmp.Compare(a.wait, b.wait))
		})
		for _, k := range keys[:min(len(keys), TopGroupSeries)] {
			ch <- prometheus.MustNewConstMetric(m.groupSize, prometheus.GaugeValue, float64(sizes[k]), k.site, k.wait)
		}
	}
	b := s.Blocking
	ch <- prometheus.MustNewConstMetric(m.blockDelay, prometheus.CounterValue, b.BlockDelaySecondsTotal)
	ch <- prometheus.MustNewConstMetric(m.blockEvents, prometheus.CounterValue, float64(b.BlockEventsTotal))
	ch <- prometheus.MustNewConstMetric(m.mutexDelay, prometheus.CounterValue, b.MutexDelaySecondsTotal)
	ch <- prometheus.MustNewConstMetric(m.mutexEvents, prometheus.CounterValue, float64(b.MutexEventsTotal))
	ch <- prometheus.MustNewConstMetric(m.blockRate, prometheus.GaugeValue, float64(b.BlockProfileRate))
	ch <- prometheus.MustNewConstMetric(m.mutexFraction, prometheus.GaugeValue, float64(b.MutexProfileFraction))
	// Top sites are already bounded (10 per profile) by the collector;
	// two stacks may share a site, so sum per label.
	for _, p := range []struct {
		d     *prometheus.Desc
		sites []model.BlockingSite
	}{{m.blockSiteDelay, b.Block}, {m.mutexSiteDelay, b.Mutex}} {
		sum := make(map[string]float64)
		var order []string
		for _, st := range p.sites {
			l := siteLabel(st.Site)
			if _, ok := sum[l]; !ok {
				order = append(order, l)
			}
			sum[l] += st.DelaySeconds
		}
		for _, l := range order {
			ch <- prometheus.MustNewConstMetric(p.d, prometheus.GaugeValue, sum[l], l)
		}
	}
}

// siteLabel is a frame as a metric label: "pkg.Func (file.go:12)", the
// package path and directories left out to keep it short.
func siteLabel(f model.Frame) string {
	name := path.Base(f.Func)
	if f.File == "" {
		return name
	}
	return name + " (" + path.Base(f.File) + ":" + strconv.Itoa(f.Line) + ")"
}

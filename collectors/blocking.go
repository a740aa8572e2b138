package collectors

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/collectors/dump"
	"github.com/asyncmon/asyncmon/model"
)

const (
	// defaultTopSites bounds Blocking.Block and Blocking.Mutex.
	defaultTopSites = 10
	// defaultBlockingInterval spaces the profile reads.
	defaultBlockingInterval = time.Second
	// maxTrackedStacks bounds the previous values kept for deltas.
	maxTrackedStacks = 10000
)

// BlockingOptions configures the blocking collector. The zero value works
// and changes no process-wide setting.
type BlockingOptions struct {
	// BlockProfileRate, when positive, is set with
	// runtime.SetBlockProfileRate while the collector is open; Close
	// sets it back to 0 (the runtime offers no way to read the previous
	// rate, and 0 is its default). Optional. Default 0: leave the
	// process's setting alone and report whatever the block profile
	// holds. agent.DefaultBlockProfileRate is the recommended value.
	BlockProfileRate int
	// MutexProfileFraction, when positive, is set with
	// runtime.SetMutexProfileFraction while the collector is open; Close
	// restores the previous fraction. Optional. Default 0: leave the
	// process's setting alone. agent.DefaultMutexProfileFraction is the
	// recommended value.
	MutexProfileFraction int
	// TopSites bounds the sites reported per profile. Optional.
	// Default 10.
	TopSites int
	// Interval is the shortest time between two reads of the profiles
	// (each formats and symbolises every contended stack); collections
	// in between repeat the last window. Optional. Default 1s.
	Interval time.Duration
	// Logger receives debug messages. Optional. Default silent.
	Logger *slog.Logger
}

// Blocking is the block and mutex contention collector: a model.Collector
// that fills Snapshot.Blocking with the top contended call sites over the
// window since the previous collection, and the totals.
//
// runtime.SetBlockProfileRate and runtime.SetMutexProfileFraction are
// process-wide: the collector changes them only when its options ask, and
// Close restores them. Both profiles are cumulative in the runtime; the
// collector keeps the previous values per stack (bounded) to compute
// per-window deltas.
//
// The block profile records where goroutines waited (channel operations,
// select, sync.Cond, WaitGroup, and mutexes as waiters); the mutex
// profile records where contended locks were released, that is the
// critical section that made others wait.
type Blocking struct {
	opts BlockingOptions

	mu sync.Mutex // guards the fields below
	// prevMutex is the mutex fraction before the collector set it, -1
	// when it did not.
	prevMutex int
	setBlock  bool
	closed    bool
	last      time.Time
	out       model.Blocking // the last read, repeated until the next
	block     Contention
	mutex     Contention
	buf       bytes.Buffer
}

// Contention turns successive readings of one cumulative contention
// profile (block or mutex) into per-site deltas. It is the one
// implementation, used by the Blocking collector and by offline analysis
// of profiles fetched from a pprof endpoint. The zero value is ready; it
// is not safe for concurrent use.
type Contention struct {
	prev map[string]stackValue // keyed by the record's PCs
	// primed is set by the first reading (or Prime): deltas start there.
	primed bool
}

// Prime marks the start of the deltas without a reading: the next Update
// counts every record from zero. The Blocking collector primes a profile
// that is off at its first collection, so that events from when it is
// turned on count.
func (c *Contention) Prime() { c.primed = true }

type stackValue struct {
	count  int64
	cycles int64
}

// NewBlocking returns the blocking collector and applies the sampling
// settings its options ask for.
func NewBlocking(opts BlockingOptions) *Blocking {
	if opts.TopSites <= 0 {
		opts.TopSites = defaultTopSites
	}
	if opts.Interval <= 0 {
		opts.Interval = defaultBlockingInterval
	}
	b := &Blocking{opts: opts, prevMutex: -1}
	if opts.BlockProfileRate > 0 {
		runtime.SetBlockProfileRate(opts.BlockProfileRate)
		b.setBlock = true
	}
	if opts.MutexProfileFraction > 0 {
		b.prevMutex = runtime.SetMutexProfileFraction(opts.MutexProfileFraction)
	}
	return b
}

// Name implements model.Collector.
func (b *Blocking) Name() string { return "blocking" }

// Close restores the sampling settings the collector changed. It is
// idempotent.
func (b *Blocking) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	if b.setBlock {
		runtime.SetBlockProfileRate(0)
	}
	if b.prevMutex >= 0 {
		runtime.SetMutexProfileFraction(b.prevMutex)
	}
	return nil
}

// Collect implements model.Collector.
func (b *Blocking) Collect(ctx context.Context, s *model.Snapshot) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	now := time.Now()
	if !b.last.IsZero() && now.Sub(b.last) < b.opts.Interval {
		// Between reads the snapshot repeats the last window.
		s.Blocking = b.out
		return nil
	}
	out := model.Blocking{MutexProfileFraction: runtime.SetMutexProfileFraction(-1)}
	out.BlockProfileRate = b.opts.BlockProfileRate // the runtime does not tell
	if b.closed {
		out.BlockProfileRate = 0
	}
	if !b.last.IsZero() {
		out.WindowSeconds = now.Sub(b.last).Seconds()
	}
	b.last = now
	var errs []error
	for _, p := range []struct {
		name  string
		st    *Contention
		n     func() int
		sites *[]model.BlockingSite
		delay *float64
		count *int64
	}{
		{"block", &b.block, func() int { n, _ := runtime.BlockProfile(nil); return n },
			&out.Block, &out.BlockDelaySecondsTotal, &out.BlockEventsTotal},
		{"mutex", &b.mutex, func() int { n, _ := runtime.MutexProfile(nil); return n },
			&out.Mutex, &out.MutexDelaySecondsTotal, &out.MutexEventsTotal},
	} {
		if p.n() == 0 {
			// Never turned on (the default): nothing to format.
			p.st.Prime()
			continue
		}
		b.buf.Reset()
		if err := pprof.Lookup(p.name).WriteTo(&b.buf, 1); err != nil {
			errs = append(errs, fmt.Errorf("%s profile: %w", p.name, err))
			continue
		}
		cp, err := dump.ParseContention(&b.buf)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s profile: %w", p.name, err))
			continue
		}
		sites, delay, count := p.st.Update(cp, b.opts.TopSites)
		*p.sites, *p.delay, *p.count = sites, delay, count
	}
	b.out = out
	s.Blocking = out
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// Update reads one profile and returns the top sites by delay since the
// previous reading (none at the first), at most top of them, and the
// cumulative totals: delay in seconds and events.
func (st *Contention) Update(cp *dump.ContentionProfile, top int) ([]model.BlockingSite, float64, int64) {
	first := !st.primed
	st.primed = true
	next := make(map[string]stackValue, len(cp.Records))
	type siteAcc struct {
		site   model.BlockingSite
		best   int64 // the largest stack's delta cycles, whose stack is kept
		cycles int64
	}
	bySite := make(map[model.Frame]*siteAcc)
	var totalCycles, totalCount int64
	for i := range cp.Records {
		r := &cp.Records[i]
		totalCycles += r.Cycles
		totalCount += r.Count
		if len(next) < maxTrackedStacks {
			next[r.Key] = stackValue{r.Count, r.Cycles}
		}
		if first {
			continue
		}
		prev := st.prev[r.Key]
		dc, dn := r.Cycles-prev.cycles, r.Count-prev.count
		if dc <= 0 && dn <= 0 {
			continue
		}
		var site [1]model.Frame
		dump.TopFrames(r.Frames, site[:])
		a := bySite[site[0]]
		if a == nil {
			a = &siteAcc{site: model.BlockingSite{Site: site[0]}}
			bySite[site[0]] = a
		}
		a.cycles += max(dc, 0)
		a.site.Count += max(dn, 0)
		if dc > a.best || a.site.Stack == nil {
			a.best = dc
			a.site.Stack = r.Frames
		}
	}
	st.prev = next
	sites := make([]model.BlockingSite, 0, len(bySite))
	for _, a := range bySite {
		a.site.DelaySeconds = cp.Seconds(a.cycles)
		sites = append(sites, a.site)
	}
	slices.SortFunc(sites, func(x, y model.BlockingSite) int {
		if c := cmp.Compare(y.DelaySeconds, x.DelaySeconds); c != 0 {
			return c
		}
		if c := cmp.Compare(y.Count, x.Count); c != 0 {
			return c
		}
		return strings.Compare(x.Site.Site(), y.Site.Site())
	})
	if len(sites) > top {
		sites = sites[:top]
	}
	if len(sites) == 0 {
		sites = nil
	}
	return sites, cp.Seconds(totalCycles), totalCount
}

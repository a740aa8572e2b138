package goroutines

import (
	"cmp"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/asyncmon/asyncmon/collectors/dump"
	"github.com/asyncmon/asyncmon/model"
)

// GroupKey selects what makes two goroutines members of the same group.
// Combine the Key* bits; the zero value means DefaultGroupKey.
type GroupKey uint8

// Group key parts.
const (
	// KeyCreatedBy is the go statement that started the goroutine
	// (function and file:line). Tracebacks have it; the concurrent
	// goroutine profile does not.
	KeyCreatedBy GroupKey = 1 << iota
	// KeyStart is the goroutine's start function: the outermost frame
	// of its stack. Every source has it.
	KeyStart
	// KeyWaitReason is the normalised wait reason.
	KeyWaitReason
	// KeyTopFrames is the innermost user frames (GroupOptions.TopFrames
	// of them), with file:line.
	KeyTopFrames
	// KeyLabels is the goroutine's pprof labels. Off by default: labels
	// that carry request IDs make one group per goroutine.
	KeyLabels
)

// DefaultGroupKey groups by creation site, start function, wait reason
// and top user frames.
const DefaultGroupKey = KeyCreatedBy | KeyStart | KeyWaitReason | KeyTopFrames

// maxTopFrames bounds GroupOptions.TopFrames (the key is a fixed array).
const maxTopFrames = 8

// Defaults of GroupOptions.
const (
	defaultTopFrames  = 2
	defaultMaxGroups  = 100
	defaultMaxTracked = 10000
	defaultSamples    = 5
	defaultStackDepth = 64
)

// GroupOptions configures a Grouper. The zero value works.
type GroupOptions struct {
	// Key selects the group key parts. Optional. Default DefaultGroupKey.
	Key GroupKey
	// TopFrames is how many innermost user frames are part of the key
	// and of GoroutineGroup.TopFrames. Optional. Default 2, at most 8.
	TopFrames int
	// MaxGroups bounds the rows of a GroupTable, largest groups first;
	// GroupTable.Total still counts all groups. Optional. Default 100.
	MaxGroups int
	// MaxTracked bounds the distinct groups one call tracks, and so its
	// memory and the Delta history: goroutines that would open a group
	// beyond it are counted in one overflow group per wait reason.
	// Optional. Default 10000.
	MaxTracked int
	// Samples is how many member IDs a group keeps. Optional. Default 5.
	Samples int
	// StackDepth bounds the sample stack of a group. Optional. Default 64.
	StackDepth int
}

func (o GroupOptions) withDefaults() GroupOptions {
	if o.Key == 0 {
		o.Key = DefaultGroupKey
	}
	if o.TopFrames <= 0 {
		o.TopFrames = defaultTopFrames
	}
	o.TopFrames = min(o.TopFrames, maxTopFrames)
	if o.MaxGroups <= 0 {
		o.MaxGroups = defaultMaxGroups
	}
	if o.MaxTracked <= 0 {
		o.MaxTracked = defaultMaxTracked
	}
	if o.Samples <= 0 {
		o.Samples = defaultSamples
	}
	if o.StackDepth <= 0 {
		o.StackDepth = defaultStackDepth
	}
	return o
}

// GroupTable is one goroutine group table.
type GroupTable struct {
	// Groups are the largest groups, by count then key, at most
	// GroupOptions.MaxGroups of them.
	Groups []model.GoroutineGroup
	// Total is the number of distinct groups; Truncated is true when it
	// is larger than len(Groups).
	Total     int
	Truncated bool
	// Goroutines is the number of goroutines grouped.
	Goroutines int
	// ByWaitReason counts goroutines per normalised wait reason.
	ByWaitReason map[string]int
}

// Grouper turns goroutines into a group table and remembers the previous
// table's counts to fill GoroutineGroup.Delta. A Grouper is not safe for
// concurrent use; its cost per call is linear in the goroutines and its
// memory bounded by GroupOptions.MaxTracked.
type Grouper struct {
	opts GroupOptions
	prev map[string]int // count per group key in the previous table
}

// NewGrouper returns a Grouper with opts.
func NewGrouper(opts GroupOptions) *Grouper {
	return &Grouper{opts: opts.withDefaults()}
}

// Fill puts the table into s's group fields, taken at when: the one
// filler of those fields, for the live collector and offline analysis.
func (t *GroupTable) Fill(s *model.Snapshot, when time.Time) {
	s.Groups = t.Groups
	s.GroupsTime = when
	s.GroupsTruncated = t.Truncated
	s.GroupsTotal = t.Total
	s.ByWaitReason = t.ByWaitReason
}

// GroupDump groups a parsed dump (tracebacks or profile records) with a
// fresh Grouper: every Delta is the group's count.
func GroupDump(d *dump.Dump, opts GroupOptions) *GroupTable {
	gr := NewGrouper(opts)
	if d.Format == dump.FormatProfile {
		return gr.GroupRecords(d.Records)
	}
	return gr.Group(d.Goroutines)
}

// Group builds the table of gs.
func (gr *Grouper) Group(gs []model.Goroutine) *GroupTable {
	b := gr.newBuild()
	for i := range gs {
		leaked := 0
		if gs[i].Leaked {
			leaked = 1
		}
		b.add(&gs[i], 1, leaked)
	}
	return gr.finish(b)
}

// NoStackFunc names the frame that stands in for the stack of profile
// records that have none, so their group still says what it is.
const NoStackFunc = "(no stack in the goroutine profile)"

// GroupRecords builds the table of aggregated profile records.
func (gr *Grouper) GroupRecords(rs []dump.ProfileRecord) *GroupTable {
	b := gr.newBuild()
	for i := range rs {
		if rs[i].Count > 0 {
			leaked := min(rs[i].Leaked, rs[i].Count)
			if rs[i].Goroutine.Leaked {
				leaked = rs[i].Count
			}
			g := &rs[i].Goroutine
			if len(g.Frames) == 0 {
				// The profile can hold records without a stack (a
				// goroutine caught starting or exiting); name them
				// rather than show a group with no location.
				ng := *g
				ng.Frames = []model.Frame{{Func: NoStackFunc}}
				g = &ng
			}
			b.add(g, rs[i].Count, leaked)
		}
	}
	return gr.finish(b)
}

// gkey is the map key of a group: comparable, so no string is built per
// goroutine.
type gkey struct {
	createdBy keyFrame
	start     string
	wait      string
	top       [maxTopFrames]keyFrame
	labels    string
	overflow  bool
}

// keyFrame is a frame in a key: a function (with its package path) and a
// line determine the file, so the file is left out of the hash.
type keyFrame struct {
	fn   string
	line int
}

func kf(f model.Frame) keyFrame { return keyFrame{f.Func, f.Line} }

type acc struct {
	key    gkey
	g      model.GoroutineGroup
	labels map[string]string // shared by all members so far
}

type build struct {
	o      GroupOptions
	groups map[gkey]*acc
	byWait map[string]int
	n      int
	// prev is the last goroutine added, with its wait reason and group.
	prev     *model.Goroutine
	prevWait string
	prevAcc  *acc
}

func (gr *Grouper) newBuild() *build {
	return &build{o: gr.opts, groups: make(map[gkey]*acc), byWait: make(map[string]int)}
}

// add counts n goroutines like g, leaked of which the runtime reported
// leaked.
func (b *build) add(g *model.Goroutine, n, leaked int) {
	b.n += n
	wait := g.WaitReason
	if wait == "" {
		wait = dump.NormalizeWaitReason(g.State)
	}
	b.byWait[wait] += n
	var a *acc
	if p := b.prev; p != nil && b.prevWait == wait && sameGroup(p, g, b.o.Key&KeyLabels != 0) {
		// Goroutines started in a loop come one after another in a dump
		// with identical (interned) frames: skip building the key.
		a = b.prevAcc
	} else {
		a = b.lookup(g, wait)
	}
	b.prev, b.prevWait, b.prevAcc = g, wait, a
	a.g.Count += n
	if g.Wait > a.g.MaxWait {
		a.g.MaxWait = g.Wait
	}
	a.g.Leaked += leaked
	if g.ID > 0 && len(a.g.SampleIDs) < b.o.Samples {
		a.g.SampleIDs = append(a.g.SampleIDs, g.ID)
	}
	if len(a.labels) > 0 && a.g.Count > n {
		for k, v := range a.labels {
			if g.Labels[k] != v {
				delete(a.labels, k)
			}
		}
	}
}

// sameGroup reports whether g, with the same wait reason as the previous
// goroutine p, certainly falls in p's group: same creator and frames (and
// no labels when labels are part of the key).
func sameGroup(p, g *model.Goroutine, keyLabels bool) bool {
	if p.CreatedBy != g.CreatedBy || len(p.Frames) != len(g.Frames) {
		return false
	}
	if keyLabels && (len(p.Labels) > 0 || len(g.Labels) > 0) {
		return false
	}
	for i := range g.Frames {
		if p.Frames[i] != g.Frames[i] {
			return false
		}
	}
	return true
}

// lookup finds or creates the group of g.
func (b *build) lookup(g *model.Goroutine, wait string) *acc {
	var top [maxTopFrames]model.Frame
	nTop := dump.TopFrames(g.Frames, top[:b.o.TopFrames])
	start := dump.StartFrame(g)
	var k gkey
	if b.o.Key&KeyCreatedBy != 0 {
		k.createdBy = kf(g.CreatedBy)
	}
	if b.o.Key&KeyStart != 0 {
		k.start = start.Func
	}
	if b.o.Key&KeyWaitReason != 0 {
		k.wait = wait
	}
	if b.o.Key&KeyTopFrames != 0 {
		for i := range nTop {
			k.top[i] = kf(top[i])
		}
	}
	if b.o.Key&KeyLabels != 0 && len(g.Labels) > 0 {
		k.labels = dump.LabelString(g.Labels)
	}
	a := b.groups[k]
	if a == nil {
		if len(b.groups) >= b.o.MaxTracked {
			k = gkey{wait: wait, overflow: true}
			a = b.groups[k]
		}
		if a == nil {
			a = &acc{key: k}
			a.g.WaitReason = wait
			if !k.overflow {
				a.g.CreatedBy = g.CreatedBy
				a.g.Start = start
				a.g.TopFrames = slices.Clone(top[:nTop])
				a.g.Stack = slices.Clone(g.Frames[:min(len(g.Frames), b.o.StackDepth)])
				if len(g.Labels) > 0 {
					a.labels = maps.Clone(g.Labels)
				}
			}
			b.groups[k] = a
		}
	}
	return a
}

func (gr *Grouper) finish(b *build) *GroupTable {
	t := &GroupTable{Total: len(b.groups), Goroutines: b.n, ByWaitReason: b.byWait}
	all := make([]*acc, 0, len(b.groups))
	next := make(map[string]int, len(b.groups))
	for _, a := range b.groups {
		a.g.Key = groupKeyString(a.key)
		if len(a.labels) > 0 {
			a.g.Labels = a.labels
		}
		a.g.Delta = a.g.Count - gr.prev[a.g.Key]
		next[a.g.Key] = a.g.Count
		all = append(all, a)
	}
	gr.prev = next
	slices.SortFunc(all, func(x, y *acc) int {
		if c := cmp.Compare(y.g.Count, x.g.Count); c != 0 {
			return c
		}
		return strings.Compare(x.g.Key, y.g.Key)
	})
	if len(all) > b.o.MaxGroups {
		all = all[:b.o.MaxGroups]
		t.Truncated = true
	}
	t.Groups = make([]model.GoroutineGroup, len(all))
	for i, a := range all {
		t.Groups[i] = a.g
	}
	return t
}

// groupKeyString is the stable, short identity of a group: 16 hex digits
// of an FNV-1a hash over the key parts.
func groupKeyString(k gkey) string {
	// FNV-1a, written out so hashing a string does not allocate.
	const offset64, prime64 = 14695981039346656037, 1099511628211
	h := uint64(offset64)
	w := func(s string) {
		for i := 0; i < len(s); i++ {
			h ^= uint64(s[i])
			h *= prime64
		}
		h *= prime64 // the 0 separator: h ^= 0 is a no-op
	}
	if k.overflow {
		w("overflow")
	}
	w(k.createdBy.fn)
	w(strconv.Itoa(k.createdBy.line))
	w(k.start)
	w(k.wait)
	for _, f := range k.top {
		if f == (keyFrame{}) {
			break
		}
		w(f.fn)
		w(strconv.Itoa(f.line))
	}
	w(k.labels)
	return strconv.FormatUint(h|1<<63, 16)
}

// Sort orders for SortGroups.
const (
	SortCount = "count" // members
	SortDelta = "delta" // change since the previous table
	SortWait  = "wait"  // longest wait
	SortSite  = "site"  // Site() as file:line, then function
)

// SortGroups sorts gs in place by one of the Sort* orders, descending
// when desc is true, ties broken by key. It reports false for an unknown
// order and leaves gs as it was.
func SortGroups(gs []model.GoroutineGroup, by string, desc bool) bool {
	var f func(a, b *model.GoroutineGroup) int
	switch by {
	case SortCount:
		f = func(a, b *model.GoroutineGroup) int { return cmp.Compare(a.Count, b.Count) }
	case SortDelta:
		f = func(a, b *model.GoroutineGroup) int { return cmp.Compare(a.Delta, b.Delta) }
	case SortWait:
		f = func(a, b *model.GoroutineGroup) int { return cmp.Compare(a.MaxWait, b.MaxWait) }
	case SortSite:
		f = func(a, b *model.GoroutineGroup) int {
			x, y := a.Site(), b.Site()
			if c := strings.Compare(x.Site(), y.Site()); c != 0 {
				return c
			}
			return strings.Compare(x.Func, y.Func)
		}
	default:
		return false
	}
	slices.SortStableFunc(gs, func(a, b model.GoroutineGroup) int {
		c := f(&a, &b)
		if desc {
			c = -c
		}
		if c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return true
}

package detectors

import (
	"fmt"
	"slices"
	"time"

	"github.com/asyncmon/asyncmon/model"
)

// groupTime is when s's group table was taken.
func groupTime(s *model.Snapshot) time.Time {
	if !s.GroupsTime.IsZero() {
		return s.GroupsTime
	}
	return s.Time
}

// hasGroups reports whether s carries a group table.
func hasGroups(s *model.Snapshot) bool {
	return len(s.Groups) > 0 || !s.GroupsTime.IsZero()
}

// groupIndex is the distinct group tables of a window, oldest first, thinned
// to a bounded number so that a pass over a long window with many groups
// stays cheap, with a lazily built key index per table.
type groupIndex struct {
	samples []*model.Snapshot
	maps    []map[string]*model.GoroutineGroup
}

// newGroupIndex returns the distinct group tables of w taken at or after
// since, at most maxN of them spread evenly over the time (the newest
// always included).
func newGroupIndex(w model.Window, since time.Time, maxN int) *groupIndex {
	// Group tables are never newer than their snapshot, so snapshots
	// taken before since hold no table taken after it.
	var all []*model.Snapshot
	for _, s := range sinceTime(w, since).Snapshots {
		if !hasGroups(s) || groupTime(s).Before(since) {
			continue
		}
		if n := len(all); n > 0 && groupTime(all[n-1]).Equal(groupTime(s)) {
			all[n-1] = s // the same table carried forward: keep one
			continue
		}
		all = append(all, s)
	}
	if len(all) > maxN && maxN >= 2 {
		first, last := groupTime(all[0]), groupTime(all[len(all)-1])
		step := last.Sub(first) / time.Duration(maxN-1)
		thin := make([]*model.Snapshot, 0, maxN)
		next := first
		for i, s := range all {
			if i == len(all)-1 || !groupTime(s).Before(next) {
				thin = append(thin, s)
				next = groupTime(s).Add(step)
			}
		}
		if thin[len(thin)-1] != all[len(all)-1] {
			thin = append(thin, all[len(all)-1])
		}
		all = thin
	}
	return &groupIndex{samples: all, maps: make([]map[string]*model.GoroutineGroup, len(all))}
}

func (x *groupIndex) latest() *model.Snapshot {
	if len(x.samples) == 0 {
		return nil
	}
	return x.samples[len(x.samples)-1]
}

// lookup returns the group with key in table i.
func (x *groupIndex) lookup(i int, key string) *model.GoroutineGroup {
	m := x.maps[i]
	if m == nil {
		gs := x.samples[i].Groups
		m = make(map[string]*model.GoroutineGroup, len(gs))
		for j := range gs {
			m[gs[j].Key] = &gs[j]
		}
		x.maps[i] = m
	}
	return m[key]
}

// persistChecks is how many tables persisted looks at besides the newest:
// the one that proves the span, and a few spread in between. Checking
// every table would cost a map per table per pass at 10k groups.
const persistChecks = 5

// persisted reports how long g (a group of the newest table) has been
// blocked with no progress: present, with a goroutine ID in common with g
// (or, where the collector gives no IDs, with no fewer members), in the
// table that is at least need old and in a few tables in between. It
// returns the span it could prove, which is at least need when ok.
func (x *groupIndex) persisted(g *model.GoroutineGroup, need time.Duration) (time.Duration, bool) {
	if g.MaxWait >= need {
		return g.MaxWait, true
	}
	n := len(x.samples)
	if n < 2 {
		return g.MaxWait, false
	}
	now := groupTime(x.samples[n-1])
	// The newest table old enough to prove the span.
	proof := -1
	for i := n - 2; i >= 0; i-- {
		if now.Sub(groupTime(x.samples[i])) >= need {
			proof = i
			break
		}
	}
	if proof < 0 {
		return max(g.MaxWait, now.Sub(groupTime(x.samples[0]))), false
	}
	// Check the proving table first: most groups fail there.
	checks := []int{proof}
	for k := 1; k < persistChecks; k++ {
		if i := proof + k*(n-1-proof)/persistChecks; i > proof && i < n-1 && i != checks[len(checks)-1] {
			checks = append(checks, i)
		}
	}
	for _, i := range checks {
		old := x.lookup(i, g.Key)
		if old == nil || !sameMembers(old, g) {
			return g.MaxWait, false
		}
	}
	return now.Sub(groupTime(x.samples[proof])), true
}

// seenSince returns since when g (a group of the newest table) has been
// in every table, back to the first one that lacks it, and for how long
// (at least the dump's own wait time, MaxWait).
func (x *groupIndex) seenSince(g *model.GoroutineGroup) (time.Time, time.Duration) {
	n := len(x.samples)
	now := groupTime(x.samples[n-1])
	from := now
	for i := n - 2; i >= 0 && x.lookup(i, g.Key) != nil; i-- {
		from = groupTime(x.samples[i])
	}
	if age := now.Sub(from); age < g.MaxWait {
		return now.Add(-g.MaxWait), g.MaxWait
	}
	return from, now.Sub(from)
}

// sameMembers reports whether old and cur share a goroutine, or, without
// IDs, whether old had no more members than cur.
func sameMembers(old, cur *model.GoroutineGroup) bool {
	if len(old.SampleIDs) > 0 && len(cur.SampleIDs) > 0 {
		for _, id := range cur.SampleIDs {
			if slices.Contains(old.SampleIDs, id) {
				return true
			}
		}
		return false
	}
	return old.Count <= cur.Count
}

// ownGoroutine reports whether g belongs to asyncmon's own agent or
// collectors, which detectors leave out of process-wide judgements: every
// goroutine the agent starts carries the model.AgentLabel pprof label from
// its first instruction, and the goroutines they start inherit it.
func ownGoroutine(g *model.GoroutineGroup) bool {
	return g.Labels[model.AgentLabel] != ""
}

// describeGroup says where a group waits and where it was created.
func describeGroup(g *model.GoroutineGroup) string {
	s := fmt.Sprintf("%d goroutine(s) in %s at %s", g.Count, g.WaitReason, siteOf(g.Site()))
	if !g.CreatedBy.IsZero() && g.CreatedBy != g.Site() {
		s += fmt.Sprintf(", created at %s", siteOf(g.CreatedBy))
	}
	return s
}

// siteOf names a frame as "func (file:line)", or just the function.
func siteOf(f model.Frame) string {
	if f.File == "" {
		return f.Func
	}
	return fmt.Sprintf("%s (%s)", f.ShortFunc(), f.Site())
}

// groupStack is a group's sample stack as evidence.
func groupStack(g *model.GoroutineGroup) []model.Stack {
	if len(g.Stack) == 0 {
		return nil
	}
	return []model.Stack{{Label: fmt.Sprintf("one of %d goroutines in %s", g.Count, g.WaitReason), Frames: g.Stack}}
}

// subjectOf is a group's subject: the site where it waits, file:line.
func subjectOf(g *model.GoroutineGroup) string {
	if s := g.Site().Site(); s != "" {
		return s
	}
	return g.Key
}

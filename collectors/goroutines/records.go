//go:build go1.26 && !go1.28

package goroutines

import (
	"encoding/binary"
	"slices"
	"unsafe"

	"github.com/asyncmon/asyncmon/collectors/dump"
	"github.com/asyncmon/asyncmon/model"
)

// This file reads the concurrent goroutine profile as records, the way
// runtime/pprof itself does, instead of asking pprof for its debug=1 text
// and parsing it back. pprof keys every goroutine's stack with fmt (one
// Fprintf per program counter and a string per goroutine) before it
// aggregates: with the parsing back and the GC of that garbage, about
// three quarters of a refresh's CPU and of its allocation (docs/perf.md,
// "Group-table refresh"). Here the stacks are aggregated
// on their raw program counters, and each distinct label set is read once.
//
// The runtime offers the profile with labels only to runtime/pprof, under
// the name below (marked for linkname by the runtime, so the linker allows
// it). Its record type and pprof's label set are internal, so their
// layouts are mirrored here, for the Go versions they were checked
// against: Go 1.26 and 1.27 (internal/profilerecord.StackRecord and
// runtime/pprof.labelMap, an internal/runtime/pprof/label.Set). Other
// versions build records_other.go and keep the text path;
// TestRecordsMatchText holds the two paths to the same table.

// haveRecords says whether this build reads the profile as records.
const haveRecords = true

// stackRecord mirrors internal/profilerecord.StackRecord.
type stackRecord struct {
	Stack []uintptr
}

// labelSet mirrors *runtime/pprof.labelMap: a label.Set, sorted by key.
type labelSet struct {
	List []struct{ Key, Value string }
}

// goroutineProfileWithLabels is runtime.pprof_goroutineProfileWithLabels:
// the concurrent goroutine profile (stop the world twice for O(1) steps,
// walk the stacks with the world running). It fills p and labels (same
// length) and returns n, true; or n, false without writing when n
// records do not fit.
//
//go:linkname goroutineProfileWithLabels runtime.pprof_goroutineProfileWithLabels
func goroutineProfileWithLabels(p []stackRecord, labels []unsafe.Pointer) (n int, ok bool)

// readRecords takes the concurrent goroutine profile and aggregates it
// into records, one per distinct stack and label set, in first-seen
// order. The records' PCs are the runtime's; their Goroutine holds only
// the labels (symbolize fills the frames). ok is false when this build
// cannot read records (see records_other.go).
func (a *aggregator) readRecords() (rs []dump.ProfileRecord, ok bool) {
	n, _ := goroutineProfileWithLabels(nil, nil)
	var p []stackRecord
	var labels []unsafe.Pointer
	for {
		// A few spare records, as pprof allows, for goroutines started
		// between the two calls; retry if even those were not enough.
		p = make([]stackRecord, n+10)
		labels = make([]unsafe.Pointer, n+10)
		if n, ok = goroutineProfileWithLabels(p, labels); ok {
			break
		}
	}
	return a.aggregate(p[:n], labels[:n]), true
}

// aggregate folds the records by stack and label-set pointer (a
// goroutine inherits its creator's pointer, so goroutines started at one
// site share it), then merges the records that equal label sets at
// distinct pointers split: pprof keys by the labels' text, so its
// records were merged the same way.
func (a *aggregator) aggregate(p []stackRecord, labels []unsafe.Pointer) []dump.ProfileRecord {
	type rec struct {
		count int
		pcs   []uintptr
		lp    unsafe.Pointer
	}
	var recs []rec
	index := make(map[string]int)
	prev := -1
	for i := range p {
		stk, lp := p[i].Stack, labels[i]
		// Goroutines started together sit together in the runtime's
		// list: most records equal the previous one.
		if prev >= 0 && recs[prev].lp == lp && slices.Equal(recs[prev].pcs, stk) {
			recs[prev].count++
			continue
		}
		a.key = appendPCs(a.key[:0], stk)
		a.key = binary.LittleEndian.AppendUint64(a.key, uint64(uintptr(lp)))
		if j, ok := index[string(a.key)]; ok {
			recs[j].count++
			prev = j
			continue
		}
		prev = len(recs)
		index[string(a.key)] = prev
		recs = append(recs, rec{count: 1, pcs: stk, lp: lp})
	}
	names := make(map[unsafe.Pointer]map[string]string)
	clear(index)
	out := make([]dump.ProfileRecord, 0, len(recs))
	for _, r := range recs {
		m, ok := names[r.lp]
		if !ok {
			m = decodeLabels(r.lp)
			names[r.lp] = m
		}
		a.key = appendPCs(a.key[:0], r.pcs)
		if len(m) > 0 {
			a.key = append(a.key, dump.LabelString(m)...)
		}
		if j, ok := index[string(a.key)]; ok {
			out[j].Count += r.count
			continue
		}
		index[string(a.key)] = len(out)
		out = append(out, dump.ProfileRecord{Count: r.count, PCs: r.pcs, Goroutine: model.Goroutine{Labels: m}})
	}
	return out
}

// decodeLabels returns the labels at p, a *runtime/pprof.labelMap, or
// nil for none.
func decodeLabels(p unsafe.Pointer) map[string]string {
	if p == nil {
		return nil
	}
	ls := (*labelSet)(p)
	if len(ls.List) == 0 {
		return nil
	}
	m := make(map[string]string, len(ls.List))
	for _, l := range ls.List {
		m[l.Key] = l.Value
	}
	return m
}

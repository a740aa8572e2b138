//go:build go1.26 && !go1.28

package goroutines

import (
	"maps"
	"testing"
	"unsafe"
)

// TestAggregateMergesEqualLabelSets: records with one stack and equal
// label sets at distinct addresses become one record, as pprof's text
// keyed by the labels' text made them; distinct stacks and label sets
// stay apart, and an empty set counts as none.
func TestAggregateMergesEqualLabelSets(t *testing.T) {
	set := func(kv ...string) unsafe.Pointer {
		ls := &labelSet{}
		for i := 0; i < len(kv); i += 2 {
			ls.List = append(ls.List, struct{ Key, Value string }{kv[i], kv[i+1]})
		}
		return unsafe.Pointer(ls)
	}
	s1, s2 := []uintptr{1, 2, 3}, []uintptr{1, 2, 4}
	a1, a2, b, empty := set("route", "/a"), set("route", "/a"), set("route", "/b"), set()
	p := []stackRecord{{s1}, {s1}, {s2}, {s1}, {s1}, {s1}, {s1}, {s1}}
	labels := []unsafe.Pointer{a1, a1, a1, a2, b, nil, empty, a2}
	var ag aggregator
	rs := ag.aggregate(p, labels)
	type want struct {
		pcs    []uintptr
		labels map[string]string
		count  int
	}
	wants := []want{
		{s1, map[string]string{"route": "/a"}, 4},
		{s2, map[string]string{"route": "/a"}, 1},
		{s1, map[string]string{"route": "/b"}, 1},
		{s1, nil, 2},
	}
	if len(rs) != len(wants) {
		t.Fatalf("%d records, want %d: %+v", len(rs), len(wants), rs)
	}
	for i, w := range wants {
		r := rs[i]
		if r.Count != w.count || !maps.Equal(r.Goroutine.Labels, w.labels) || len(r.PCs) != len(w.pcs) || r.PCs[2] != w.pcs[2] {
			t.Errorf("record %d = %d × %v %v, want %d × %v %v", i, r.Count, r.PCs, r.Goroutine.Labels, w.count, w.pcs, w.labels)
		}
	}
}

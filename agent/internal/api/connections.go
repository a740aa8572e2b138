package api

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"

	"github.com/asyncmon/asyncmon/model"
)

// connOrder returns the order /api/v1/connections sorts by, false for an
// unknown name.
func connOrder(name string) (func(a, b model.Conn) int, bool) {
	switch name {
	case "", "age": // oldest first
		return func(a, b model.Conn) int { return cmp.Compare(b.AgeSeconds, a.AgeSeconds) }, true
	case "idle": // longest without I/O first
		return func(a, b model.Conn) int { return cmp.Compare(b.IdleSeconds, a.IdleSeconds) }, true
	case "bytes": // most bytes moved first
		return func(a, b model.Conn) int { return cmp.Compare(b.BytesIn+b.BytesOut, a.BytesIn+a.BytesOut) }, true
	}
	return nil, false
}

// handleConnections serves the tracked connections and pools of the latest
// snapshot as a [model.Connections].
//
//	sort   age (oldest first, the default), idle (longest idle first) or
//	       bytes (most bytes first). Optional.
//	kind   keep one kind: server, client, http-body, sql, sql-rows, sql-tx.
//	       Optional; counts and pools are never filtered.
//	pool   keep the connections, rows and transactions of one pool.
//	       Optional.
//	limit  keep the first N after sorting. Optional.
//
// Open lists at most the tracker's bound of connections (the oldest);
// open_total and truncated say how many there are in all.
func (a *API) handleConnections(w http.ResponseWriter, r *http.Request) {
	if err := checkParams(r, "sort", "kind", "pool", "limit"); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	q := r.URL.Query()
	order, ok := connOrder(q.Get("sort"))
	if !ok {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("sort: want age, idle or bytes, got %q", q.Get("sort")))
		return
	}
	kind := q.Get("kind")
	if kind != "" && !slices.Contains(model.ConnKinds(), kind) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("kind: want one of %v, got %q", model.ConnKinds(), kind))
		return
	}
	pool := q.Get("pool")
	limit, err := limitParam(q)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}

	s := a.src.Latest()
	if s == nil {
		writeError(w, http.StatusServiceUnavailable, "no snapshot yet")
		return
	}
	// The snapshot is shared: filter into fresh slices, never in place.
	cs := s.Connections
	keep := func(c model.Conn) bool {
		return (kind == "" || c.Kind == kind) && (pool == "" || c.Pool == pool)
	}
	filter := func(in []model.Conn) []model.Conn {
		out := make([]model.Conn, 0, len(in))
		for _, c := range in {
			if keep(c) {
				out = append(out, c)
			}
		}
		return out
	}
	cs.Open = filter(cs.Open)
	cs.Leaks = filter(cs.Leaks)
	slices.SortStableFunc(cs.Open, order)
	if limit > 0 && len(cs.Open) > limit {
		cs.Open = cs.Open[:limit]
	}
	writeJSON(w, http.StatusOK, cs)
}

package api

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/asyncmon/asyncmon/agent/internal/limits"
	"github.com/asyncmon/asyncmon/collectors/goroutines"
	"github.com/asyncmon/asyncmon/model"
)

// WaitReasons returns the bounded set of model wait reasons, for
// validating wait_reason= and for the metrics.
func WaitReasons() []string {
	return []string{
		model.WaitRunning, model.WaitRunnable, model.WaitChanRecv, model.WaitChanSend,
		model.WaitSelect, model.WaitNilChan, model.WaitMutex, model.WaitCond, model.WaitWaitGroup,
		model.WaitIO, model.WaitSleep, model.WaitSyscall, model.WaitGC, model.WaitRuntime, model.WaitOther,
	}
}

// handleGoroutines serves the goroutine group table of the latest
// snapshot as a model.GoroutineTable.
//
//	sort         count (default), delta, wait (longest wait) or site.
//	order        desc (default; asc for site) or asc.
//	filter       keep groups whose wait reason, labels, creator, start or
//	             any stack frame (function or file:line) contains this
//	             substring.
//	wait_reason  keep groups with this normalised wait reason.
//	limit        keep the first N groups. Optional.
//	full         1: group a full goroutine dump taken now, with goroutine
//	             IDs, wait minutes and creation sites. It stops the world
//	             for the whole walk, so it is rate limited (one a minute;
//	             429 in between).
func (a *API) handleGoroutines(w http.ResponseWriter, r *http.Request) {
	if err := checkParams(r, "sort", "order", "filter", "wait_reason", "limit", "full"); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	q := r.URL.Query()
	by := q.Get("sort")
	if by == "" {
		by = goroutines.SortCount
	}
	desc := by != goroutines.SortSite
	switch q.Get("order") {
	case "":
	case "asc":
		desc = false
	case "desc":
		desc = true
	default:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("order: want asc or desc, got %q", q.Get("order")))
		return
	}
	wait := q.Get("wait_reason")
	if wait != "" && !slices.Contains(WaitReasons(), wait) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("wait_reason: want one of %q, got %q", WaitReasons(), wait))
		return
	}
	limit, err := limitParam(q)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	filter := q.Get("filter")
	full := false
	switch q.Get("full") {
	case "", "0":
	case "1":
		full = true
	default:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("full: want 0 or 1, got %q", q.Get("full")))
		return
	}

	// Every parameter is valid before any work: a full dump stops the
	// world and spends the rate limit's allowance.
	switch by {
	case goroutines.SortCount, goroutines.SortDelta, goroutines.SortWait, goroutines.SortSite:
	default:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("sort: want count, delta, wait or site, got %q", by))
		return
	}

	t := model.GoroutineTable{Groups: []model.GoroutineGroup{}}
	if full {
		if a.goroutines == nil {
			writeError(w, http.StatusNotFound, "no goroutine collector in this agent")
			return
		}
		if !a.guard.acquire(w) {
			return
		}
		defer a.guard.release()
		if !a.dumpAllowed(w, r) {
			return
		}
		when := time.Now()
		d, err := a.goroutines.Dump(r.Context())
		switch {
		case errors.Is(err, goroutines.ErrRateLimited):
			a.cnt.Hit(limits.DumpRate)
			tooMany(w, dumpPerClient, "a full goroutine dump stops the world; one a minute at most")
			return
		case d == nil && r.Context().Err() != nil:
			return // the client left; nobody reads an answer
		case d == nil:
			writeError(w, http.StatusInternalServerError, fmt.Sprintf("goroutine dump: %v", err))
			return
		}
		a.cnt.Dumped()
		gt := goroutines.GroupDump(d, goroutines.GroupOptions{MaxGroups: 1000})
		t.Time, t.Goroutines, t.GroupsTotal, t.Truncated, t.ByWaitReason = when, gt.Goroutines, gt.Total, gt.Truncated, gt.ByWaitReason
		for _, g := range gt.Groups {
			if (wait == "" || g.WaitReason == wait) && (filter == "" || groupMatches(&g, filter)) {
				t.Groups = append(t.Groups, g)
			}
		}
	} else if s := a.src.Latest(); s != nil {
		t.Time = s.GroupsTime
		t.GroupsTotal = max(s.GroupsTotal, len(s.Groups))
		t.Truncated = s.GroupsTruncated
		t.ByWaitReason = s.ByWaitReason
		for _, n := range s.ByWaitReason {
			t.Goroutines += n
		}
		// The snapshot is shared and never written: filter into a copy.
		for _, g := range s.Groups {
			if (wait == "" || g.WaitReason == wait) && (filter == "" || groupMatches(&g, filter)) {
				t.Groups = append(t.Groups, g)
			}
		}
	}
	if !goroutines.SortGroups(t.Groups, by, desc) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("sort: want count, delta, wait or site, got %q", by))
		return
	}
	t.Matched = len(t.Groups)
	if limit > 0 && len(t.Groups) > limit {
		t.Groups = t.Groups[:limit]
	}
	writeJSON(w, http.StatusOK, t)
}

// groupMatches reports whether s occurs in g's wait reason, labels,
// creator, start function or any frame.
func groupMatches(g *model.GoroutineGroup, s string) bool {
	frame := func(f model.Frame) bool {
		return strings.Contains(f.Func, s) || (f.File != "" && strings.Contains(f.Site(), s))
	}
	if strings.Contains(g.WaitReason, s) || frame(g.CreatedBy) || frame(g.Start) {
		return true
	}
	for k, v := range g.Labels {
		if strings.Contains(k, s) || strings.Contains(v, s) {
			return true
		}
	}
	return slices.ContainsFunc(g.TopFrames, frame) || slices.ContainsFunc(g.Stack, frame)
}

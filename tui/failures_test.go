package tui

import (
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"github.com/asyncmon/asyncmon/model"
)

// TestFindingsViewShowsFailureFindings: the findings of the panic,
// no-deadline, overload and crash detectors list in the findings view
// and open with their summary, numbers and stack.
func TestFindingsViewShowsFailureFindings(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	site := model.Frame{Func: "example.com/shop.handleDiscount", File: "/src/shop/discount.go", Line: 40}
	fs := []model.Finding{
		{ID: "crash:/src/shop/ledger.go:62", Detector: "crash", Level: model.LevelCritical, State: model.StateFiring,
			Title:   "Crashed in shop.(*ledger).flush (/src/shop/ledger.go:62): fatal error: sync: unlock of unlocked mutex",
			Summary: "The program crashed on a fatal runtime error on goroutine 29.", Subject: "/src/shop/ledger.go:62",
			Evidence: model.Evidence{Captures: []string{"cap-crash"}, Stacks: []model.Stack{{Label: "crashing goroutine 29",
				Frames: []model.Frame{{Func: "example.com/shop.(*ledger).flush", File: "/src/shop/ledger.go", Line: 62}}}}},
			FirstSeen: at, LastSeen: at},
		{ID: "panic:handler /src/shop/discount.go:40", Detector: "panic", Level: model.LevelWarning, State: model.StateFiring,
			Title:   "handlers panic at /src/shop/discount.go:40, 7 times in 5 min",
			Summary: "Handlers panic at /src/shop/discount.go:40 serving GET /api/discount.", Subject: site.Site(),
			Evidence: model.Evidence{Numbers: map[string]float64{"panics_in_window": 7},
				Stacks: []model.Stack{{Label: "latest panicking stack", Frames: []model.Frame{site}}}},
			FirstSeen: at, LastSeen: at},
		{ID: "no-deadline:http /src/shop/stock.go:51", Detector: "no-deadline", Level: model.LevelWarning, State: model.StateFiring,
			Title: "HTTP requests without a deadline at /src/shop/stock.go:51, 300 in 5 min", Subject: "/src/shop/stock.go:51",
			FirstSeen: at, LastSeen: at},
		{ID: "overload:process", Detector: "overload", Level: model.LevelWarning, State: model.StateFiring, Cause: "no-shedding",
			Title: "Requests pile up: 286 in flight, +281 in 19 s", Subject: "process",
			Evidence:  model.Evidence{Numbers: map[string]float64{"oldest_request_age_seconds": 14.3}},
			FirstSeen: at, LastSeen: at},
	}
	src := newFakeSource()
	h := startUI(t, src, 140, 30)
	u := liveUpdate(1)
	u.Findings = fs
	src.updates <- u
	h.waitFor("live")
	h.keys("f")
	h.waitFor("4 findings, 4 firing", "Crashed in shop.(*ledger).flush", "handlers panic at", "without a deadline at", "Requests pile up")
	h.key(tcell.KeyEnter) // the critical crash is first
	h.waitFor("fatal error: sync: unlock of unlocked mutex", "crashing goroutine 29", "cap-crash")
}

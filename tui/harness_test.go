package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
)

// harness runs a UI on a simulated screen.
type harness struct {
	t      *testing.T
	ui     *ui
	sim    tcell.SimulationScreen
	cancel context.CancelFunc
	done   chan error
}

// clock is the fixed "now" of the tests: one minute after the fixtures
// start, plus whatever a test adds.
func fixedNow() time.Time { return t0.Add(30 * time.Second) }

func startUI(t *testing.T, src Source, width, height int) *harness {
	t.Helper()
	return startUIClock(t, src, width, height, fixedNow)
}

// startUIClock starts a UI with the given clock.
func startUIClock(t *testing.T, src Source, width, height int, now func() time.Time) *harness {
	t.Helper()
	return startUIOn(t, src, width, height, now, tcell.NewSimulationScreen("UTF-8"))
}

// startUIOn starts a UI on the given simulated screen.
func startUIOn(t *testing.T, src Source, width, height int, now func() time.Time, sim tcell.SimulationScreen) *harness {
	t.Helper()
	u := newUI(Options{Source: src, Screen: sim, Now: now, SaveDir: t.TempDir()})
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{t: t, ui: u, sim: sim, cancel: cancel, done: make(chan error, 1)}
	go func() { h.done <- u.run(ctx) }()
	u.app.QueueUpdateDraw(func() { sim.SetSize(width, height) })
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-h.done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("run did not return after cancel")
		}
	})
	return h
}

// screen returns the simulated screen's text, one string per row, read on
// the UI goroutine.
func (h *harness) screen() []string {
	var rows []string
	h.ui.app.QueueUpdate(func() {
		cells, w, ht := h.sim.GetContents()
		for y := range ht {
			var b strings.Builder
			for x := range w {
				c := cells[y*w+x]
				if len(c.Bytes) == 0 {
					b.WriteByte(' ')
					continue
				}
				b.Write(c.Bytes)
			}
			rows = append(rows, b.String())
		}
	})
	return rows
}

func (h *harness) text() string { return strings.Join(h.screen(), "\n") }

// waitFor polls the screen until every want appears, or fails after a
// deadline with the screen in the message.
func (h *harness) waitFor(want ...string) string {
	h.t.Helper()
	return h.waitUntil(func(s string) bool {
		for _, w := range want {
			if !strings.Contains(s, w) {
				return false
			}
		}
		return true
	}, "want %q", want)
}

// waitGone polls until none of gone appears.
func (h *harness) waitGone(gone ...string) string {
	h.t.Helper()
	return h.waitUntil(func(s string) bool {
		for _, g := range gone {
			if strings.Contains(s, g) {
				return false
			}
		}
		return true
	}, "want gone %q", gone)
}

func (h *harness) waitUntil(ok func(string) bool, format string, args ...any) string {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	var s string
	for time.Now().Before(deadline) {
		s = h.text()
		if ok(s) {
			return s
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.t.Fatalf(format+"; screen:\n%s", append(args, s)...)
	return s
}

func (h *harness) keys(s string) {
	for _, r := range s {
		h.sim.InjectKey(tcell.KeyRune, r, tcell.ModNone)
	}
}

func (h *harness) key(k tcell.Key) { h.sim.InjectKey(k, 0, tcell.ModNone) }

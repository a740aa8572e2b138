package tui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"

	"github.com/asyncmon/asyncmon/model"
	"github.com/asyncmon/asyncmon/tui/widget"
)

// Options configure [Run].
type Options struct {
	// Source delivers the data. Required.
	Source Source
	// Title names the target in the status line. Optional. Default
	// Source.Target().
	Title string
	// Screen is where the UI draws. Optional. Default the terminal; tests
	// pass a tcell.SimulationScreen.
	Screen tcell.Screen
	// SaveDir is where s saves a finding's captures. Optional. Default
	// the current directory.
	SaveDir string
	// Logger receives the UI's own diagnostics. Optional. Default silent.
	// It must not write to the terminal the UI draws on.
	Logger *slog.Logger
	// Now is the clock. Optional. Default time.Now.
	Now func() time.Time
}

// ErrNoSource is returned by [Run] when Options.Source is nil.
var ErrNoSource = errors.New("asyncmon: tui: no source")

// Run shows the UI until the user quits (q or Ctrl-C) or ctx is done, and
// returns nil then. Network trouble never ends it: the source reports it and
// retries. Run owns every goroutine it starts and joins them before it
// returns.
func Run(ctx context.Context, opts Options) error {
	if opts.Source == nil {
		return ErrNoSource
	}
	return newUI(opts).run(ctx)
}

// messageFor is how long a transient message stays in the status line.
const messageFor = 8 * time.Second

// ui is one running UI. Fields below app are owned by the UI goroutine
// (the tview event loop): only QueueUpdate(Draw) callbacks and key
// handlers touch them.
type ui struct {
	opts   Options
	src    Source
	now    func() time.Time
	log    *slog.Logger
	app    *tview.Application
	cancel context.CancelFunc
	ctx    context.Context

	// mu guards closing and every bg.Add: once closing is set no new
	// background goroutine starts, so bg.Wait cannot race an Add.
	mu      sync.Mutex
	closing bool
	bg      sync.WaitGroup

	st        state
	current   View
	paused    bool
	frozen    frame
	helpOpen  bool
	message   string
	messageAt time.Time
	// stopped is set by the update that stops the event loop, so run can
	// tell our stop from tview ending the loop on a terminal error.
	stopped bool

	main *tview.Flex
	// helpRoot is main with the help overlay on top; the application's
	// root while help is open.
	helpRoot *tview.Pages
	body     *switcher
	tabs     *tview.TextView
	status   *tview.TextView
	help     *tview.TextView
	ov       *overview
	gr       *goroutinesView
	bl       *blockingView
	cn       *connectionsView
	fi       *findingsView
}

// view is what every view provides.
type view interface {
	primitive() tview.Primitive
	render(frame)
}

func newUI(opts Options) *ui {
	u := &ui{opts: opts, src: opts.Source, now: opts.Now, log: opts.Logger}
	if u.now == nil {
		u.now = time.Now
	}
	if u.log == nil {
		u.log = slog.New(slog.DiscardHandler)
	}
	if u.opts.SaveDir == "" {
		u.opts.SaveDir = "."
	}
	if u.opts.Title == "" {
		u.opts.Title = u.src.Target()
	}
	u.st.status = Status{State: StateConnecting}
	if p, ok := u.src.(Player); ok {
		u.paused = p.Paused()
	}
	u.app = tview.NewApplication()
	focus := func(p tview.Primitive) { u.app.SetFocus(p) }
	u.ov = newOverview(u.now)
	u.gr = newGoroutinesView(focus)
	u.bl = newBlockingView()
	u.cn = newConnectionsView()
	u.fi = newFindingsView(focus, u.saveCaptures, u.now)

	u.tabs = tview.NewTextView().SetDynamicColors(true).SetWrap(false)
	u.status = tview.NewTextView().SetDynamicColors(true).SetWrap(false)
	u.body = newSwitcher(u.ov.primitive())
	u.main = tview.NewFlex().SetDirection(tview.FlexRow).
		AddItem(u.tabs, 1, 0, false).
		AddItem(u.body, 0, 1, true).
		AddItem(u.status, 1, 0, false)
	u.help = tview.NewTextView().SetDynamicColors(true).SetText(helpText)
	u.help.SetBorder(true).SetTitle(" help — ? or Esc closes ")
	u.helpRoot = tview.NewPages().
		AddPage("main", u.main, true, true).
		AddPage("help", centered(u.help, 70, 22), true, true)
	u.app.SetRoot(u.main, true).SetInputCapture(u.onKey)
	u.renderTabs()
	u.renderStatus()
	return u
}

const helpText = `[::b]views[::-]
  1 o  Overview      firing findings, latency, goroutines, GC
  2 g  Goroutines    the group table
  3 b  Blocking      top block and mutex sites
  4 c  Connections   open connections and pools
  5 f  Findings      what is wrong, in plain words

[::b]everywhere[::-]
  space  pause or resume      ?  this help      q  quit
  n      next snapshot (replay, while paused)

[::b]tables[::-]
  ↑ ↓ PgUp PgDn  move      < >  sort column     r  reverse
  Enter  open details      Esc  back            Tab  next table
  /      filter goroutines: function, file, wait reason; Esc clears
  s      (finding details) save its captures locally`

// centered places p of the given size in the middle of the screen.
func centered(p tview.Primitive, width, height int) tview.Primitive {
	return tview.NewFlex().
		AddItem(nil, 0, 1, false).
		AddItem(tview.NewFlex().SetDirection(tview.FlexRow).
			AddItem(nil, 0, 1, false).
			AddItem(p, height, 0, true).
			AddItem(nil, 0, 1, false), width, 0, true).
		AddItem(nil, 0, 1, false)
}

func (u *ui) viewOf(v View) view {
	switch v {
	case ViewGoroutines:
		return u.gr
	case ViewBlocking:
		return u.bl
	case ViewConnections:
		return u.cn
	case ViewFindings:
		return u.fi
	}
	return u.ov
}

// startBG starts f on a background goroutine owned by u, unless u is
// closing.
func (u *ui) startBG(f func()) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closing {
		return false
	}
	u.bg.Go(f)
	return true
}

func (u *ui) run(parent context.Context) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	u.ctx, u.cancel = ctx, cancel
	if u.opts.Screen != nil {
		u.app.SetScreen(u.opts.Screen)
	} // else tview opens the terminal in Run, and reports failure
	u.app.SetBeforeDrawFunc(widget.Fallbacks())
	u.startBG(func() { u.pump(ctx) })
	u.startBG(func() { u.tick(ctx) })

	// The closer stops the event loop once every background goroutine is
	// gone: they hand data over with QueueUpdateDraw, which blocks until
	// the loop runs it, so the loop must outlive them.
	var closer sync.WaitGroup
	closer.Go(func() {
		<-ctx.Done()
		u.mu.Lock()
		u.closing = true
		u.mu.Unlock()
		u.bg.Wait()
		u.app.QueueUpdate(func() {
			u.stopped = true
			u.app.Stop()
		})
	})
	err := u.app.Run()
	cancel()
	if !u.stopped {
		// tview ended the loop itself (the terminal failed). Run it again
		// on an invisible screen so that blocked background goroutines
		// and the closer can finish.
		u.app.SetScreen(tcell.NewSimulationScreen(""))
		if err2 := u.app.Run(); err == nil {
			err = err2
		}
	}
	closer.Wait()
	if err != nil {
		return fmt.Errorf("asyncmon: terminal: %w", err)
	}
	return nil
}

// pump runs the source and hands its updates to the UI goroutine.
func (u *ui) pump(ctx context.Context) {
	err := u.src.Run(ctx, func(up Update) {
		if ctx.Err() != nil {
			return
		}
		at := u.now()
		u.app.QueueUpdateDraw(func() { u.apply(up, at) })
	})
	if err != nil && ctx.Err() == nil {
		u.log.Warn("source stopped", "err", err)
		u.app.QueueUpdateDraw(func() { u.say("source stopped: " + err.Error()) })
	}
}

// tick refreshes the status line every second so the age of data counts
// up even when nothing arrives.
func (u *ui) tick(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			u.app.QueueUpdateDraw(u.renderStatus)
		}
	}
}

// apply folds an update into the state and redraws what shows.
func (u *ui) apply(up Update, at time.Time) {
	u.st.apply(up, at)
	if up.Status != nil {
		u.renderTabs()
	}
	if !u.displayFrozen() {
		u.renderCurrent()
	} else if up.Status != nil {
		// Connection state is never frozen: a paused display still says
		// when the target went away.
		u.frozen.status = u.st.status
	}
	if up.HasFindings {
		u.renderTabs()
	}
	u.renderStatus()
}

// displayFrozen reports whether the views show the frame taken at pause
// rather than the live state. A Player pauses at the source instead.
func (u *ui) displayFrozen() bool {
	_, player := u.src.(Player)
	return u.paused && !player
}

func (u *ui) frame() frame {
	if u.displayFrozen() {
		return u.frozen
	}
	return u.st.frame()
}

func (u *ui) renderCurrent() {
	u.viewOf(u.current).render(u.frame())
}

func (u *ui) say(msg string) {
	u.message, u.messageAt = msg, u.now()
	u.renderStatus()
}

func (u *ui) selectView(v View) {
	u.current = v
	u.body.show(u.viewOf(v).primitive())
	u.renderCurrent()
	u.app.SetFocus(u.focusTarget(v))
	u.renderTabs()
}

func (u *ui) focusTarget(v View) tview.Primitive {
	switch v {
	case ViewGoroutines:
		return u.gr.focusTarget()
	case ViewBlocking:
		return u.bl.focusTarget()
	case ViewConnections:
		return u.cn.focusTarget()
	case ViewFindings:
		return u.fi.focusTarget()
	}
	return u.ov.primitive()
}

func (u *ui) quit() {
	u.cancel()
}

func (u *ui) togglePause() {
	u.paused = !u.paused
	if p, ok := u.src.(Player); ok {
		p.SetPaused(u.paused)
	} else if u.paused {
		u.frozen = u.st.frame()
	} else {
		u.renderCurrent()
	}
	u.renderStatus()
}

func (u *ui) onKey(ev *tcell.EventKey) *tcell.EventKey {
	if ev.Key() == tcell.KeyCtrlC {
		u.quit()
		return nil
	}
	if _, typing := u.app.GetFocus().(*tview.InputField); typing {
		return ev
	}
	if u.helpOpen {
		if ev.Key() == tcell.KeyEscape || (ev.Key() == tcell.KeyRune && ev.Rune() == '?') {
			u.toggleHelp()
			return nil
		}
		if ev.Key() == tcell.KeyRune && ev.Rune() == 'q' {
			u.quit()
		}
		return nil
	}
	switch ev.Key() {
	case tcell.KeyTab, tcell.KeyBacktab:
		u.cycleTables(ev.Key() == tcell.KeyBacktab)
		return nil
	case tcell.KeyRune:
	default:
		return ev
	}
	r := ev.Rune()
	switch r {
	case 'q':
		u.quit()
	case '?':
		u.toggleHelp()
	case ' ':
		u.togglePause()
	case 'n', '.':
		if p, ok := u.src.(Player); ok && u.paused {
			p.Step()
		}
	default:
		if r >= '1' && r < '1'+rune(numViews) {
			u.selectView(View(r - '1'))
			return nil
		}
		for v := range numViews {
			if v.mnemonic() == r {
				u.selectView(v)
				return nil
			}
		}
		return ev
	}
	return nil
}

func (u *ui) toggleHelp() {
	u.helpOpen = !u.helpOpen
	if u.helpOpen {
		u.app.SetRoot(u.helpRoot, true)
		u.app.SetFocus(u.help)
	} else {
		u.app.SetRoot(u.main, true)
		u.app.SetFocus(u.focusTarget(u.current))
	}
}

// cycleTables moves focus between the tables of a view that has several.
func (u *ui) cycleTables(back bool) {
	var ts []tview.Primitive
	switch u.current {
	case ViewBlocking:
		ts = u.bl.tables()
	case ViewConnections:
		ts = u.cn.tables()
	}
	if len(ts) < 2 {
		return
	}
	focus := u.app.GetFocus()
	i := 0
	for j, t := range ts {
		if t == focus {
			i = j
		}
	}
	if back {
		i += len(ts) - 1
	} else {
		i++
	}
	u.app.SetFocus(ts[i%len(ts)])
}

func (u *ui) renderTabs() {
	var b strings.Builder
	for v := range numViews {
		label := fmt.Sprintf("%d %s", v+1, v)
		if v == ViewFindings {
			if n := len(firingFindings(u.st.findings)); n > 0 {
				label += fmt.Sprintf(" (%d)", n)
			}
		}
		_, unavailable := u.st.status.Unavailable[v]
		switch {
		case v == u.current:
			fmt.Fprintf(&b, "[black:aqua:b] %s [-:-:-]", label)
		case unavailable:
			fmt.Fprintf(&b, "[gray] %s [-]", label)
		default:
			fmt.Fprintf(&b, " %s ", label)
		}
	}
	b.WriteString("  [gray]? help[-]")
	u.tabs.SetText(b.String())
}

// staleAfter is how many collection intervals may pass without data before
// the status line calls the data stale.
const staleAfter = 3

func (u *ui) renderStatus() {
	var b strings.Builder
	st := u.st.status
	switch st.State {
	case StateConnecting:
		b.WriteString("[black:yellow] connecting [-:-] ")
	case StateLive:
		if st.Mode == "replay" {
			b.WriteString("[black:green] ▶ replay [-:-] ")
		} else {
			b.WriteString("[black:green] live [-:-] ")
		}
	case StateDisconnected:
		b.WriteString("[white:red:b] disconnected — retrying")
		if !st.RetryAt.IsZero() {
			if d := st.RetryAt.Sub(u.now()); d > 0 {
				fmt.Fprintf(&b, " in %s", model.FormatDuration(d+time.Second-1))
			}
		}
		b.WriteString(" [-:-:-] ")
		if st.Err != "" {
			fmt.Fprintf(&b, "[red]%s[-] ", tview.Escape(st.Err))
		}
	case StateEnded:
		b.WriteString("[black:aqua] replay ended [-:-] ")
	}
	if u.paused {
		b.WriteString("[black:yellow:b] PAUSED [-:-:-] ")
	}
	// While the display is frozen the age is that of what it shows.
	last, arrived := u.st.latest(), u.st.arrived
	if u.displayFrozen() {
		last, arrived = u.frozen.latest(), u.frozen.arrived
	}
	switch {
	case last == nil:
		b.WriteString("[gray]no data yet[-] ")
	case st.Mode == "replay":
		fmt.Fprintf(&b, "at %s ", last.Time.Local().Format("2006-01-02 15:04:05"))
	default:
		age := u.now().Sub(arrived)
		interval := time.Duration(last.IntervalSeconds * float64(time.Second))
		if interval <= 0 {
			interval = time.Second
		}
		color := "green"
		if age > staleAfter*interval {
			color = "red"
		}
		fmt.Fprintf(&b, "[%s]data %s old[-] ", color, model.FormatDuration(age))
	}
	b.WriteString(" " + tview.Escape(u.opts.Title))
	if st.Mode != "" && st.Mode != "agent" { // say when it is not the usual
		fmt.Fprintf(&b, " (%s)", st.Mode)
	}
	if last != nil && last.Process.PID != 0 {
		fmt.Fprintf(&b, "  %s pid %d", tview.Escape(last.Process.Program), last.Process.PID)
	}
	if st.Note != "" {
		fmt.Fprintf(&b, "  [yellow]%s[-]", tview.Escape(st.Note))
	}
	if u.message != "" && u.now().Sub(u.messageAt) < messageFor {
		fmt.Fprintf(&b, "  [aqua]%s[-]", tview.Escape(u.message))
	}
	u.status.SetText(b.String())
}

// saveCaptures downloads a finding's captures on a background goroutine.
func (u *ui) saveCaptures(f model.Finding) {
	saver, ok := u.src.(CaptureSaver)
	switch {
	case !ok:
		u.say("this source cannot download captures")
		return
	case len(f.Evidence.Captures) == 0:
		u.say("this finding has no captures")
		return
	}
	ids := f.Evidence.Captures
	u.say(fmt.Sprintf("saving %d capture(s)…", len(ids)))
	ctx := u.ctx
	u.startBG(func() {
		var saved []string
		var errs []error
		for _, id := range ids {
			p, err := saver.SaveCapture(ctx, id, u.opts.SaveDir)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", id, err))
				continue
			}
			saved = append(saved, p)
		}
		if ctx.Err() != nil {
			return
		}
		msg := "saved " + strings.Join(saved, ", ")
		if err := errors.Join(errs...); err != nil {
			msg = "saving captures failed: " + strings.ReplaceAll(err.Error(), "\n", "; ")
		}
		u.app.QueueUpdateDraw(func() { u.say(msg) })
	})
}

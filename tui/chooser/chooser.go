package chooser

import (
	"context"
	"errors"
	"sync"

	"github.com/asyncmon/asyncmon/tui/widget"
	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// ErrNoChoice is returned by [Choose] when the user leaves without
// choosing (q, Esc or Ctrl-C) or ctx ends.
var ErrNoChoice = errors.New("asyncmon: nothing chosen")

// Options configure [Choose].
type Options struct {
	// Title is the question above the list. Required.
	Title string
	// Header is a line above the items, such as column titles.
	// Optional.
	Header string
	// Items are the choices, one line each. Required.
	Items []string
	// Screen is where the list draws. Optional. Default the terminal.
	Screen tcell.Screen
}

// Choose shows a list of items and returns the index of the one the user
// picks with Enter (or its digit key). `asyncmon attach` uses it when
// several local agents run.
func Choose(ctx context.Context, opts Options) (int, error) {
	return choose(ctx, opts, nil)
}

// choose is Choose; started, if not nil, receives the application once it
// is built, for tests to read the screen through QueueUpdate.
func choose(ctx context.Context, opts Options, started chan<- *tview.Application) (int, error) {
	app := tview.NewApplication()
	if opts.Screen != nil {
		app.SetScreen(opts.Screen)
	}
	choice := -1
	list := tview.NewList().ShowSecondaryText(false).SetHighlightFullLine(true)
	for i, item := range opts.Items {
		shortcut := rune(0)
		if i < 9 {
			shortcut = rune('1' + i)
		}
		list.AddItem(tview.Escape(item), "", shortcut, func() {
			choice = i
			app.Stop()
		})
	}
	list.SetDoneFunc(app.Stop)
	// The header lines up with the items, which the list indents by
	// their "(1) " shortcut.
	header := tview.NewTextView().SetWrap(false).SetText("    " + opts.Header)
	header.SetTextStyle(tcell.StyleDefault.Bold(true))
	root := tview.NewFlex().SetDirection(tview.FlexRow).
		AddItem(header, 1, 0, false).
		AddItem(list, 0, 1, true)
	root.SetBorder(true).SetTitle(" " + opts.Title + " — Enter picks, q leaves ")
	app.SetInputCapture(func(ev *tcell.EventKey) *tcell.EventKey {
		if ev.Key() == tcell.KeyRune && ev.Rune() == 'q' {
			app.Stop()
			return nil
		}
		return ev
	})
	app.SetRoot(root, true)
	if started != nil {
		started <- app
	}
	// The watcher stops the application when ctx ends. Stop is safe from
	// any goroutine and a no-op once stopped, but before Run has set the
	// screen up it would be lost, so it waits for the first frame.
	done := make(chan struct{})
	drawn := make(chan struct{})
	var once sync.Once
	fallbacks := widget.Fallbacks()
	app.SetBeforeDrawFunc(func(s tcell.Screen) bool {
		fallbacks(s)
		once.Do(func() { close(drawn) })
		return false
	})
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case <-ctx.Done():
		case <-done:
			return
		}
		select {
		case <-drawn:
			app.Stop()
		case <-done:
		}
	})
	err := app.Run()
	close(done)
	wg.Wait()
	if err != nil {
		return -1, err
	}
	if choice < 0 {
		return -1, ErrNoChoice
	}
	return choice, nil
}

package tui

import "github.com/rivo/tview"

// switcher shows one primitive out of several. Unlike tview.Pages it does
// not blank its area before drawing (the application clears the screen
// before every frame), which saves a full-screen pass per nesting level
// and frame.
type switcher struct {
	*tview.Flex
	current tview.Primitive
}

func newSwitcher(p tview.Primitive) *switcher {
	s := &switcher{Flex: tview.NewFlex()}
	s.show(p)
	return s
}

// show makes p the visible primitive.
func (s *switcher) show(p tview.Primitive) {
	if s.current == p {
		return
	}
	s.current = p
	s.Clear().AddItem(p, 0, 1, true)
}

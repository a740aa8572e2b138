package widget

import "github.com/gdamore/tcell/v2"

// asciiFallbacks are what the UI's symbols become on a terminal whose
// character set cannot show them (LANG=C over SSH, say): the sparkline
// keeps its shape, levels and arrows keep their meaning. Every fallback is
// one column wide, as tview laid the text out for the original rune.
func asciiFallbacks() map[rune]string {
	return map[rune]string{
		'▁': "_", '▂': ".", '▃': ":", '▄': "-", '▅': "=", '▆': "+", '▇': "*", '█': "#",
		'●': "*", '▲': "!", '○': "o", '✓': "+", '▶': ">", '…': "~", '—': "-",
		'↓': "v", '↑': "^", 'Δ': "d", '×': "x", 'µ': "u", '•': "*",
		'║': "|", '═': "=", '╔': "+", '╗': "+", '╚': "+", '╝': "+",
		'│': "|", '─': "-", '┌': "+", '┐': "+", '└': "+", '┘': "+",
	}
}

// Fallbacks returns a before-draw hook that teaches the screen the
// ASCII fallbacks at the first frame, once tview has initialised it
// (initialising resets a screen's fallbacks).
func Fallbacks() func(tcell.Screen) bool {
	var done tcell.Screen
	return func(s tcell.Screen) bool {
		if s != done {
			for r, sub := range asciiFallbacks() {
				s.RegisterRuneFallback(r, sub)
			}
			done = s
		}
		return false // go on drawing
	}
}

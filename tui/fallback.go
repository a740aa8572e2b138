package tui

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

// screenFor returns the screen to draw on: opts' or the terminal. Its
// ASCII fallbacks are registered by useScreen once it is initialised.
func screenFor(s tcell.Screen) (tcell.Screen, error) {
	if s != nil {
		return s, nil
	}
	return tcell.NewScreen()
}

// registerFallbacks teaches an initialised screen the ASCII fallbacks.
func registerFallbacks(s tcell.Screen) {
	for r, sub := range asciiFallbacks() {
		s.RegisterRuneFallback(r, sub)
	}
}

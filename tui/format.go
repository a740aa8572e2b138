package tui

import (
	"strconv"

	"github.com/asyncmon/asyncmon/model"
)

// fmtPercent formats a fraction as a percentage.
func fmtPercent(f float64) string {
	return strconv.FormatFloat(f*100, 'f', 1, 64) + "%"
}

// fmtDelta formats a signed change: +3, -2, or empty for 0.
func fmtDelta(d int) string {
	switch {
	case d > 0:
		return "+" + strconv.Itoa(d)
	case d < 0:
		return strconv.Itoa(d)
	}
	return ""
}

// levelTag returns a tview color tag and a symbol for a finding level.
func levelTag(l model.Level) (tag, symbol string) {
	switch l {
	case model.LevelCritical:
		return "[red::b]", "●"
	case model.LevelWarning:
		return "[yellow::b]", "▲"
	}
	return "[aqua]", "○"
}

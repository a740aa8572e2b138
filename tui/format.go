package tui

import (
	"strconv"

	"github.com/asyncmon/asyncmon/model"
)

// sig3 prints v (1 ≤ v < 1000) with three significant digits.
func sig3(v float64) string {
	switch {
	case v < 10:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case v < 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

// fmtBytes formats a byte count in binary units.
func fmtBytes(b float64) string {
	const unit = 1024
	if b < unit {
		return strconv.FormatFloat(b, 'f', 0, 64) + " B"
	}
	exp := 0
	for b >= unit*unit && exp < 4 {
		b /= unit
		exp++
	}
	return sig3(b/unit) + " " + string("KMGTP"[exp]) + "iB"
}

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

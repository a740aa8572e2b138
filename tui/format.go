package tui

import (
	"fmt"
	"math"
	"path"
	"strconv"
	"time"

	"github.com/asyncmon/asyncmon/model"
)

// fmtSeconds formats a duration given in seconds with three significant
// digits: 850ns, 12.3µs, 1.20ms, 3.40s.
func fmtSeconds(s float64) string {
	switch {
	case s == 0:
		return "0"
	case math.IsNaN(s) || math.IsInf(s, 0):
		return "?"
	case s < 1e-6:
		return strconv.FormatFloat(s*1e9, 'f', 0, 64) + "ns"
	case s < 1e-3:
		return sig3(s*1e6) + "µs"
	case s < 1:
		return sig3(s*1e3) + "ms"
	case s < 120:
		return sig3(s) + "s"
	}
	return fmtDuration(time.Duration(s * float64(time.Second)))
}

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

// fmtDuration formats a coarse duration: 45s, 3m10s, 2h05m, 3d4h.
func fmtDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d/time.Minute), int(d%time.Minute/time.Second))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%dd%dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
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

// shortFunc trims the import path of a function name:
// "github.com/a/b/pkg.(*T).M" becomes "pkg.(*T).M".
func shortFunc(fn string) string {
	if fn == "" {
		return ""
	}
	return path.Base(fn)
}

// shortSite is "file.go:42" with the directories trimmed.
func shortSite(f model.Frame) string {
	if f.File == "" {
		return shortFunc(f.Func)
	}
	return path.Base(f.File) + ":" + strconv.Itoa(f.Line)
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

// Package trend fits a straight line through counts over time, for the
// detectors that judge steady growth: the goroutine leak detector (a
// group's size) and the overload detector (requests in flight).
package trend

import "time"

// Line is a running least-squares fit of a count over time. The zero
// value is an empty fit.
type Line struct {
	n, sx, sy, sxx, sxy, syy float64
	// First and Last are the first and the last count added, taken at
	// FirstT and LastT.
	First, Last   int
	FirstT, LastT time.Time
}

// Add adds the count y taken at x seconds from the start of the fit,
// at time at.
func (t *Line) Add(x float64, y int, at time.Time) {
	fy := float64(y)
	if t.n == 0 {
		t.First, t.FirstT = y, at
	}
	t.n++
	t.sx += x
	t.sy += fy
	t.sxx += x * x
	t.sxy += x * fy
	t.syy += fy * fy
	t.Last, t.LastT = y, at
}

// Fit returns the slope (per second) and R² of the fitted line; both are
// zero when the counts or their times do not vary.
func (t *Line) Fit() (slope, r2 float64) {
	dx := t.n*t.sxx - t.sx*t.sx
	dy := t.n*t.syy - t.sy*t.sy
	if dx <= 0 || dy <= 0 {
		return 0, 0
	}
	cov := t.n*t.sxy - t.sx*t.sy
	return cov / dx, cov * cov / (dx * dy)
}

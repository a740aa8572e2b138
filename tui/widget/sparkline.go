package widget

import "math"

// sparkBlocks are the eight block heights of a sparkline, lowest first.
const sparkBlocks = "▁▂▃▄▅▆▇█"

// BucketMax resamples values to at most width columns, each the maximum of
// the values it covers, so a short spike is never averaged away.
func BucketMax(values []float64, width int) []float64 {
	if width <= 0 || len(values) == 0 {
		return nil
	}
	if len(values) <= width {
		return values
	}
	out := make([]float64, width)
	for i := range width {
		lo, hi := i*len(values)/width, (i+1)*len(values)/width
		m := math.Inf(-1)
		for _, v := range values[lo:hi] {
			m = max(m, v)
		}
		out[i] = m
	}
	return out
}

// Sparkline draws values (already bucketed) scaled to top. Values at or
// below zero draw as the lowest block; top ≤ 0 draws a flat line.
func Sparkline(values []float64, top float64) string {
	sparkRunes := []rune(sparkBlocks)
	rs := make([]rune, len(values))
	for i, v := range values {
		level := 0
		if top > 0 && v > 0 {
			level = int(math.Ceil(v/top*float64(len(sparkRunes)))) - 1
			level = min(max(level, 0), len(sparkRunes)-1)
		}
		rs[i] = sparkRunes[level]
	}
	return string(rs)
}

// MaxOf returns the largest of values, or 0 for none.
func MaxOf(values []float64) float64 {
	m := 0.0
	for _, v := range values {
		m = max(m, v)
	}
	return m
}

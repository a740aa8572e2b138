package model

import (
	"math"
	"strconv"
	"time"
)

// FormatSeconds is the one display form of a duration given in seconds,
// with three significant digits: 850ns, 12.3µs, 1.20ms, 3.40s; from two
// minutes on, coarse: 3m10s, 2h05m, 3d4h.
func FormatSeconds(s float64) string {
	switch {
	case s == 0:
		return "0"
	case math.IsNaN(s) || math.IsInf(s, 0):
		return "?"
	case s < 0:
		return "-" + FormatSeconds(-s)
	case s < 1e-6:
		return strconv.FormatFloat(s*1e9, 'f', 0, 64) + "ns"
	case s < 1e-3:
		return sig3(s*1e6) + "µs"
	case s < 1:
		return sig3(s*1e3) + "ms"
	case s < 120:
		return sig3(s) + "s"
	}
	return FormatDuration(time.Duration(s * float64(time.Second)))
}

// FormatDuration formats a coarse duration: 45s, 3m10s, 2h05m, 3d4h.
func FormatDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m" + pad2(int(d%time.Minute/time.Second)) + "s"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + "h" + pad2(int(d%time.Hour/time.Minute)) + "m"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + "d" + strconv.Itoa(int(d%(24*time.Hour)/time.Hour)) + "h"
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
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

// FormatBytes is the one display form of a byte count, in binary units
// with three significant digits: 512 B, 1.50 KiB, 12.0 MiB.
func FormatBytes(b float64) string {
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

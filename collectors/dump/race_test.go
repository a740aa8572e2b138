//go:build race

package dump

// raceBuild reports whether the test binary has the race detector: its
// runtime keeps the process from ever reaching the "all goroutines are
// asleep" check, so that crash cannot be made under it.
const raceBuild = true

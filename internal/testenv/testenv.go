// Package testenv holds helpers shared by asyncmon's tests: finding the
// external programs some tests need (prometheus, promtool, tmux, the
// PostgreSQL server) and deciding whether their absence skips or fails.
//
// A developer without, say, Prometheus installed gets a skip with the reason.
// The project's test script (scripts/test.sh) installs everything and sets
// ASYNCMON_TEST_STRICT=1, under which a missing program fails the test:
// CI skips nothing.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// StrictEnv is the environment variable that turns a missing external
// program from a skip into a failure.
const StrictEnv = "ASYNCMON_TEST_STRICT"

// Strict reports whether missing requirements must fail tests.
func Strict() bool { return os.Getenv(StrictEnv) == "1" }

// LookPath returns the path of the program name, searching PATH and then
// the extra directories given. When it is not found the test is skipped,
// or failed under ASYNCMON_TEST_STRICT=1.
func LookPath(t testing.TB, name string, extraDirs ...string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, d := range extraDirs {
		p := d + "/" + name
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	Missing(t, name+" is not installed (scripts/test.sh installs it)")
	return ""
}

// Missing skips the test with reason, or fails it under strict mode.
func Missing(t testing.TB, reason string) {
	t.Helper()
	if Strict() {
		t.Fatalf("required for this test: %s", reason)
	}
	t.Skip(reason)
}

package testenv

import (
	"runtime"
	"testing"
	"time"
)

// SettleFinalizers runs the garbage collector until every finalizer queued
// so far has run. Tests that leak connections on purpose need it: the
// sockets are closed by finalizers, whose goroutine counts as a user
// goroutine while it runs and would disturb later tests that count
// goroutines. Finalizers run one at a time in queue order, so a fresh
// sentinel's finalizer running means the earlier ones have.
func SettleFinalizers(t testing.TB) {
	t.Helper()
	done := make(chan struct{})
	sentinel := &struct{ p *int }{}
	runtime.SetFinalizer(sentinel, func(*struct{ p *int }) { close(done) })
	sentinel = nil
	deadline := time.Now().Add(10 * time.Second)
	for {
		runtime.GC()
		select {
		case <-done:
			return
		case <-time.After(10 * time.Millisecond): // polling interval
		}
		if time.Now().After(deadline) {
			t.Fatal("finalizers did not run within 10s")
		}
	}
}

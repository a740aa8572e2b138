package demo

import (
	"context"
	"errors"
	"sync"
	"time"
)

// crashAfter is how long the crash scenario lets the service run before
// it crashes, so that the agent is up and a client can look.
const crashAfter = 5 * time.Second

// crashScenario crashes the demo for real: five seconds in, a ledger
// flush fails and its error branch unlocks the ledger's mutex a second
// time. Unlocking an unlocked sync.Mutex is a fatal runtime error, not a
// panic: nothing can recover it, and the process dies with "fatal error:
// sync: unlock of unlocked mutex". The agent's crash output keeps the
// report; the next start of the same executable reports it.
func crashScenario() Scenario {
	return Scenario{
		Name:        "crash",
		Description: "5 s in, a failed ledger flush unlocks a mutex twice: the process dies with a fatal error (the next start reports it)",
		Run: func(env *Env) error {
			l := &ledger{}
			env.Go(func(ctx context.Context) {
				t := time.NewTimer(crashAfter)
				defer t.Stop()
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				env.Logger().Warn("crash scenario: flushing the ledger; the process is about to die")
				_ = l.flush()
			})
			return nil
		},
	}
}

// ledger is a store that flushes its entries under a lock.
type ledger struct {
	mu      sync.Mutex // guards entries
	entries []string
}

var errDiskFull = errors.New("ledger: disk full")

// write pretends to persist the entries, and fails.
func (l *ledger) write() error { return errDiskFull }

// flush persists the entries. The bug: the error branch unlocks, then
// falls through to the unlock below.
func (l *ledger) flush() error {
	l.mu.Lock()
	err := l.write()
	if err != nil {
		l.mu.Unlock()
	}
	l.entries = l.entries[:0]
	l.mu.Unlock() // fatal error: unlock of unlocked mutex when write failed
	return err
}

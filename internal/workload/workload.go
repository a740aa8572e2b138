// Package workload starts goroutines that truly block in known ways, at
// known sites, for asyncmon's tests: the goroutine collectors, the
// analyze command and the detectors are checked against it.
package workload

import (
	"sync"
	"time"
)

// Counts says how many goroutines of each kind Start starts.
type Counts struct {
	// Recv goroutines block in a channel receive in Receiver.
	Recv int
	// Mutex goroutines block in sync.Mutex.Lock in Locker, on a mutex
	// that Start holds until Stop.
	Mutex int
	// Sleep goroutines sleep in Sleeper for SleepFor.
	Sleep    int
	SleepFor time.Duration
}

// Function names of the sites, as they appear in stacks.
const (
	ReceiverFunc = "github.com/asyncmon/asyncmon/internal/workload.Receiver"
	LockerFunc   = "github.com/asyncmon/asyncmon/internal/workload.Locker"
	SleeperFunc  = "github.com/asyncmon/asyncmon/internal/workload.Sleeper"
)

// Workload is a set of blocked goroutines. Stop releases and joins them.
type Workload struct {
	stop chan struct{}
	mu   sync.Mutex // held from Start to Stop, so Locker goroutines wait
	wg   sync.WaitGroup
	once sync.Once
}

// Start starts the goroutines. They may take a moment to park; poll for
// the state you expect.
func Start(c Counts) *Workload {
	w := &Workload{stop: make(chan struct{})}
	w.mu.Lock()
	for range c.Recv {
		w.wg.Go(func() { Receiver(w.stop) })
	}
	for range c.Mutex {
		w.wg.Go(func() { Locker(&w.mu) })
	}
	for range c.Sleep {
		w.wg.Go(func() { Sleeper(c.SleepFor) })
	}
	return w
}

// Stop releases every goroutine and waits for them; sleepers end when
// their sleep does. It is idempotent.
func (w *Workload) Stop() {
	w.once.Do(func() {
		close(w.stop)
		w.mu.Unlock()
		w.wg.Wait()
	})
}

// Receiver blocks receiving from ch.
//
//go:noinline
func Receiver(ch chan struct{}) { <-ch }

// Locker waits for mu.
//
//go:noinline
func Locker(mu *sync.Mutex) {
	mu.Lock()
	//lint:ignore SA2001 the wait for the lock is the point
	mu.Unlock()
}

// Sleeper sleeps for d.
//
//go:noinline
func Sleeper(d time.Duration) { time.Sleep(d) }

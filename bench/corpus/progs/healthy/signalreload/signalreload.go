// Package signalreload reloads its configuration on SIGHUP and rotates
// its log on SIGUSR1, with handlers waiting on signal.Notify channels
// that fire rarely (never, here). Healthy.
package signalreload

import (
	"context"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "signalreload", Class: corpus.Healthy, Short: true,
		Doc: "SIGHUP and SIGUSR1 handlers waiting on signal.Notify channels",
		Run: run,
	})
}

var reloads, rotations atomic.Int64

func run(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	usr := make(chan os.Signal, 1)
	signal.Notify(usr, syscall.SIGUSR1)
	go func() {
		for range hup {
			reloads.Add(1)
		}
	}()
	go func() {
		for range usr {
			rotations.Add(1)
		}
	}()
	for ctx.Err() == nil {
		time.Sleep(time.Second) // the service's own work
	}
}

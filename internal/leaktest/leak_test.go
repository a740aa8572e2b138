//go:build goexperiment.goroutineleakprofile

// Package leaktest checks the live goroutine collector against the Go
// 1.26 goroutineleak profile, which exists only in binaries built with
// GOEXPERIMENT=goroutineleakprofile:
//
//	GOEXPERIMENT=goroutineleakprofile go test ./internal/leaktest
//
// Its goroutines leak for real (nothing can ever wake them), so it lives
// apart from the packages whose tests check for leaked goroutines.
package leaktest

import (
	"context"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/collectors/goroutines"
	"go.uber.org/goleak"
)

const leakFunc = "github.com/asyncmon/asyncmon/internal/leaktest.leak"

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction(leakFunc))
}

// leak blocks forever on a channel no one else can reach.
//
//go:noinline
func leak() {
	ch := make(chan int)
	<-ch
}

func TestLeakedGroups(t *testing.T) {
	if pprof.Lookup("goroutineleak") == nil {
		t.Fatal("no goroutineleak profile despite the build tag")
	}
	for range 7 {
		go leak()
	}
	for _, tt := range []struct {
		name     string
		maxPause time.Duration
	}{{"profile", -1}, {"dump", time.Hour}} {
		t.Run(tt.name, func(t *testing.T) {
			c := goroutines.NewCollector(goroutines.Options{MaxPause: tt.maxPause})
			deadline := time.Now().Add(5 * time.Second)
			for {
				tb, err := c.Refresh(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				for _, g := range tb.Groups {
					if g.Site().Func == leakFunc && g.Count == 7 && g.Leaked == 7 {
						return
					}
				}
				if time.Now().After(deadline) {
					t.Fatalf("no group of 7 leaked goroutines in %+v", tb.Groups)
				}
				// A new collector reads the leak profile on its first refresh.
				c = goroutines.NewCollector(goroutines.Options{MaxPause: tt.maxPause})
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/DataDog/gostackparse"
	"github.com/asyncmon/asyncmon/collectors/dump"
	"github.com/asyncmon/asyncmon/collectors/goroutines"
	"github.com/maruel/panicparse/v2/stack"
)

//go:noinline
func parkRecv(ch chan struct{}) { <-ch }

//go:noinline
func parkSelect(a, b chan struct{}) {
	select {
	case <-a:
	case <-b:
	}
}

//go:noinline
func parkMutex(mu *sync.Mutex) {
	mu.Lock()
	//lint:ignore SA2001 the wait for the lock is the point
	mu.Unlock()
}

//go:noinline
func parkDeep(n int, ch chan struct{}) {
	if n == 0 {
		<-ch
		return
	}
	parkDeep(n-1, ch)
}

// mixedDump returns a debug=2 dump (with Go 1.26 labels) of n parked goroutines in five kinds: channel receive,
// select, mutex, a 20-deep stack, and labelled receivers.
func mixedDump(b testing.TB, n int, labels bool) []byte {
	b.Helper()
	stop := make(chan struct{})
	var mu sync.Mutex
	mu.Lock()
	var wg sync.WaitGroup
	for i := range n {
		switch i % 5 {
		case 0:
			wg.Go(func() { parkRecv(stop) })
		case 1:
			wg.Go(func() { parkSelect(stop, stop) })
		case 2:
			wg.Go(func() { parkMutex(&mu) })
		case 3:
			wg.Go(func() { parkDeep(20, stop) })
		case 4:
			wg.Go(func() {
				pprof.Do(context.Background(), pprof.Labels("request", fmt.Sprint(i%100), "route", "/api/x"), func(context.Context) {
					parkRecv(stop)
				})
			})
		}
	}
	time.Sleep(200 * time.Millisecond) // let them park; a bench fixture, not a test
	// Go 1.26 prints labels in tracebacks under this setting, which the
	// runtime re-reads when GODEBUG changes.
	prev, had := os.LookupEnv("GODEBUG")
	if labels {
		os.Setenv("GODEBUG", "tracebacklabels=1")
	}
	var buf bytes.Buffer
	err := pprof.Lookup("goroutine").WriteTo(&buf, 2)
	if had {
		os.Setenv("GODEBUG", prev)
	} else {
		os.Unsetenv("GODEBUG")
	}
	if err != nil {
		b.Fatal(err)
	}
	close(stop)
	mu.Unlock()
	wg.Wait()
	return buf.Bytes()
}

type dumpKey struct {
	n      int
	labels bool
}

// dumps caches the benchmark inputs across benchmark runs.
var dumps sync.Map // dumpKey -> []byte

func dumpOf(b *testing.B, n int, labels bool) []byte {
	k := dumpKey{n, labels}
	if d, ok := dumps.Load(k); ok {
		return d.([]byte)
	}
	d := mixedDump(b, n, labels)
	dumps.Store(k, d)
	return d
}

// BenchmarkParse compares parse throughput on the same debug=2 dumps.
// The "labels" input has Go 1.26 labels on a fifth of the headers;
// gostackparse rejects those goroutines (it reports an error for each),
// so its figure there is for parsing four fifths of the goroutines.
func BenchmarkParse(b *testing.B) {
	for _, in := range []struct {
		n      int
		labels bool
	}{{1000, false}, {10000, false}, {100000, false}, {10000, true}} {
		data := dumpOf(b, in.n, in.labels)
		// At 100k goroutines of these stacks the runtime cuts the dump
		// at 64 MiB, as it does in production: then fewer goroutines
		// and, for gostackparse, an error on the cut line.
		cut := len(data) >= 64<<20
		want := in.n
		if cut {
			want = 1
		}
		name := fmt.Sprintf("goroutines=%d", in.n)
		if in.labels {
			name += ",labels"
		}
		b.Run(name+"/parser=asyncmon", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				d, err := dump.Parse(bytes.NewReader(data))
				if err != nil || len(d.Goroutines) < want || d.Truncated != cut {
					b.Fatalf("%v, %d goroutines", err, len(d.Goroutines))
				}
			}
		})
		b.Run(name+"/parser=gostackparse", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				gs, errs := gostackparse.Parse(bytes.NewReader(data))
				if (len(errs) > 0 && !in.labels && !cut) || len(gs) < want*4/5 {
					b.Fatalf("%v, %d goroutines", errs, len(gs))
				}
			}
		})
		b.Run(name+"/parser=panicparse", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				s, _, err := stack.ScanSnapshot(bytes.NewReader(data), &bytes.Buffer{}, &stack.Opts{})
				if s == nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/parser=asyncmon+group", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				d, err := dump.Parse(bytes.NewReader(data))
				if err != nil {
					b.Fatal(err)
				}
				goroutines.GroupDump(d, goroutines.GroupOptions{})
			}
		})
	}
}

// TestFidelity shows what the peers keep of the same dump: asyncmon keeps
// the labels Go 1.26 and 1.27 print in tracebacks, and creator goroutine
// IDs, which gostackparse drops.
func TestFidelity(t *testing.T) {
	in := mixedDump(t, 500, true)
	// Go 1.26 prints labels inside the header's brackets, Go 1.27 after them.
	if !bytes.Contains(in, []byte(" labels:{")) && !bytes.Contains(in, []byte("] {")) {
		t.Fatal("dump has no labels: GODEBUG=tracebacklabels=1 not in effect")
	}
	d, err := dump.Parse(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var labelled, parents int
	for _, g := range d.Goroutines {
		if g.Labels["route"] == "/api/x" {
			labelled++
		}
		if g.ParentID != 0 {
			parents++
		}
	}
	if labelled != 100 || parents < 500 {
		t.Errorf("asyncmon: %d labelled, %d with parent IDs; want 100 and >= 500", labelled, parents)
	}
	gs, errs := gostackparse.Parse(bytes.NewReader(in))
	if len(errs) > 0 {
		t.Logf("gostackparse errors: %v", errs[0])
	}
	var gsStates int
	for _, g := range gs {
		if strings.Contains(g.State, "route") {
			gsStates++
		}
	}
	t.Logf("gostackparse: %d goroutines, %d with labels left inside the state string, %d errors, no parent IDs in its model", len(gs), gsStates, len(errs))
}

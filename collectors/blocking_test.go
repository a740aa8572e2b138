package collectors

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/collectors/dump"
	"github.com/asyncmon/asyncmon/model"
)

//go:noinline
func blockOnChannel(ch chan int) { <-ch }

//go:noinline
func holdMutex(mu *sync.Mutex, d time.Duration) {
	mu.Lock()
	time.Sleep(d)
	mu.Unlock()
}

// contend makes n channel waits of at least d each at blockOnChannel, and
// n contended critical sections of about d in holdMutex.
func contend(n int, d time.Duration) {
	ch := make(chan int)
	var wg sync.WaitGroup
	wg.Go(func() {
		for range n {
			blockOnChannel(ch)
		}
	})
	for range n {
		// Send only once the receiver is parked: on a loaded machine it
		// may otherwise reach the channel after the sender, and that
		// receive would not block at all.
		waitParked("blockOnChannel")
		time.Sleep(d)
		ch <- 1
	}
	wg.Wait()
	var mu sync.Mutex
	for range 2 {
		wg.Go(func() {
			for range n {
				holdMutex(&mu, d)
			}
		})
	}
	wg.Wait()
}

// waitParked returns once some goroutine is parked on a channel receive
// inside fn.
func waitParked(fn string) {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		for _, g := range strings.Split(string(buf[:n]), "\n\n") {
			if strings.Contains(g, "[chan receive") && strings.Contains(g, "."+fn+"(") {
				return
			}
		}
		runtime.Gosched()
	}
}

func findSite(sites []model.BlockingSite, fn string) *model.BlockingSite {
	for i := range sites {
		if strings.HasSuffix(sites[i].Site.Func, fn) {
			return &sites[i]
		}
	}
	return nil
}

func TestBlocking(t *testing.T) {
	prevMutex := runtime.SetMutexProfileFraction(-1)
	b := NewBlocking(BlockingOptions{BlockProfileRate: 1, MutexProfileFraction: 1, Interval: time.Nanosecond})
	ctx := context.Background()
	var s model.Snapshot
	if err := b.Collect(ctx, &s); err != nil {
		t.Fatal(err)
	}
	if s.Blocking.MutexProfileFraction != 1 || s.Blocking.BlockProfileRate != 1 {
		t.Errorf("rates = %d, %d, want 1, 1", s.Blocking.BlockProfileRate, s.Blocking.MutexProfileFraction)
	}
	contend(20, 2*time.Millisecond)
	s = model.Snapshot{}
	if err := b.Collect(ctx, &s); err != nil {
		t.Fatal(err)
	}
	bl := s.Blocking
	if bl.WindowSeconds <= 0 {
		t.Errorf("window = %v, want > 0", bl.WindowSeconds)
	}
	site := findSite(bl.Block, ".blockOnChannel")
	if site == nil {
		t.Fatalf("blockOnChannel not among the block sites %+v", bl.Block)
	}
	// 20 waits of at least 2 ms each: at least 20 events and 20 ms, give
	// or take the runtime's scaling.
	if site.Count < 20 || site.DelaySeconds < 0.02 || site.DelaySeconds > 10 {
		t.Errorf("blockOnChannel: %d events, %.3fs, want >= 20 events and >= 0.02s", site.Count, site.DelaySeconds)
	}
	if len(site.Stack) == 0 || site.Site.Line == 0 {
		t.Errorf("site without stack or line: %+v", site)
	}
	m := findSite(bl.Mutex, ".holdMutex")
	if m == nil {
		t.Fatalf("holdMutex not among the mutex sites %+v", bl.Mutex)
	}
	if m.DelaySeconds <= 0 || m.Count <= 0 {
		t.Errorf("holdMutex: %d events, %.3fs, want > 0", m.Count, m.DelaySeconds)
	}
	if bl.BlockDelaySecondsTotal < site.DelaySeconds || bl.MutexEventsTotal < m.Count {
		t.Errorf("totals below the window: %+v", bl)
	}
	// A quiet window reports no sites for the contention above.
	s = model.Snapshot{}
	if err := b.Collect(ctx, &s); err != nil {
		t.Fatal(err)
	}
	if findSite(s.Blocking.Block, ".blockOnChannel") != nil {
		t.Errorf("blockOnChannel reported again in a quiet window")
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if got := runtime.SetMutexProfileFraction(-1); got != prevMutex {
		t.Errorf("mutex fraction after Close = %d, want %d", got, prevMutex)
	}
}

func TestBlockingDefaultTouchesNothing(t *testing.T) {
	prev := runtime.SetMutexProfileFraction(-1)
	b := NewBlocking(BlockingOptions{})
	if got := runtime.SetMutexProfileFraction(-1); got != prev {
		t.Errorf("mutex fraction = %d, want %d untouched", got, prev)
	}
	var s model.Snapshot
	if err := b.Collect(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
}

func FuzzParseContention(f *testing.F) {
	f.Add([]byte("--- mutex:\ncycles/second=1000000000\nsampling period=10\n5000000 3 @ 0x4710e5 0x4a0c33\n#\t0x4710e4\tsync.(*Mutex).Unlock+0x44\t\t/go/src/sync/mutex.go:229\n\n"))
	f.Add([]byte("--- contention:\ncycles/second=2400000000\n100 1 @ 0x1\n#\t0x1\tmain.f+0x1\t/x.go:1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		cp, err := dump.ParseContention(strings.NewReader(string(b)))
		if cp == nil {
			t.Fatalf("nil profile (err %v)", err)
		}
		var st Contention
		st.Prime()
		st.Update(cp, 3)
		st.Update(cp, 3)
	})
}

func TestBlockingInterval(t *testing.T) {
	b := NewBlocking(BlockingOptions{BlockProfileRate: 1, Interval: time.Hour})
	defer b.Close()
	var s model.Snapshot
	if err := b.Collect(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	contend(5, time.Millisecond)
	s2 := model.Snapshot{}
	if err := b.Collect(context.Background(), &s2); err != nil {
		t.Fatal(err)
	}
	if findSite(s2.Blocking.Block, ".blockOnChannel") != nil || s2.Blocking.BlockEventsTotal != s.Blocking.BlockEventsTotal {
		t.Errorf("read again within the interval: %+v", s2.Blocking)
	}
}

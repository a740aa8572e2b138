package detectors_test

import (
	"context"
	"database/sql"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/asyncmon/asyncmon/detectors"
	"github.com/asyncmon/asyncmon/findings"
	"github.com/asyncmon/asyncmon/model"
)

// The leaking programs below block for good as far as the detector can
// tell; the test holds what they wait on and releases them at the end,
// so no goroutine outlives it.

// suspectSite returns "abs/path/suspect_test.go:N" for the line holding
// marker.
func suspectSite(t *testing.T, marker string) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(src), "\n") {
		if strings.HasSuffix(l, "// "+marker) {
			return filepath.ToSlash(file) + ":" + itoa(i+1)
		}
	}
	t.Fatalf("marker %q not found", marker)
	return ""
}

// sendResult hands a result to a caller that has gone.
func sendResult(res chan<- int) {
	res <- 42 // send-one-site
}

// sendMany is one of a burst of workers whose results nobody collects.
func sendMany(res chan<- int) {
	res <- 1 // send-many-site
}

// fanOut starts workers that send results nobody reads and waits for them
// with a WaitGroup: channel & WaitGroup.
func fanOut(res chan int, n int) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			res <- i // fan-out-send-site
		})
	}
	wg.Wait() // fan-out-wait-site
}

// misusedWaitGroup adds two but starts one worker, which finishes: the
// counter never reaches zero.
func misusedWaitGroup(release <-chan struct{}, wg *sync.WaitGroup) {
	wg.Add(2)
	go func() {
		wg.Done()
	}()
	wg.Wait() // misused-wait-site
	<-release
}

// condWaiter waits for a flag that the goroutine it started would set,
// but that goroutine is stuck sending first.
func condWaiter(c *sync.Cond, ready *bool, res chan int) {
	go func() {
		res <- 1 // cond-signaller-site
		c.L.Lock()
		*ready = true
		c.L.Unlock()
		c.Broadcast()
	}()
	c.L.Lock()
	for !*ready {
		c.Wait() // cond-wait-site
	}
	c.L.Unlock()
}

// barrier lets n workers of one kind meet each round on a sync.Cond.
type barrier struct {
	mu             sync.Mutex
	cond           *sync.Cond
	n, arrived, rd int
}

func (b *barrier) await() {
	b.mu.Lock()
	defer b.mu.Unlock()
	round := b.rd
	b.arrived++
	if b.arrived == b.n {
		b.arrived, b.rd = 0, b.rd+1
		b.cond.Broadcast()
		return
	}
	for round == b.rd {
		b.cond.Wait() // barrier-wait-site
	}
}

// barrierWorker meets the others at the barrier each round; worker 0
// first waits for an input that never comes (channel & Cond).
func barrierWorker(id int, b *barrier, input <-chan int, stop *atomic.Bool) {
	for !stop.Load() {
		if id == 0 {
			<-input
		}
		b.await()
	}
}

// condConsumer is a healthy consumer idle in Cond.Wait until another
// goroutine hands it an item.
func condConsumer(c *sync.Cond, items *int, done *bool) {
	c.L.Lock()
	defer c.L.Unlock()
	for *items == 0 && !*done {
		c.Wait() // cond-consumer-site
	}
}

// poolWorker is an idle worker of a healthy pool.
func poolWorker(jobs <-chan int) {
	for range jobs { // idle-pool-site
	}
}

// tickerLoop is a healthy periodic job.
func tickerLoop(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select { // ticker-site
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// acceptLoop is a healthy accept loop.
func acceptLoop(ln net.Listener) {
	for {
		c, err := ln.Accept() // accept-site
		if err != nil {
			return
		}
		c.Close()
	}
}

// signalWaiter is a healthy signal handler.
func signalWaiter(sigs <-chan os.Signal) {
	<-sigs // signal-site
}

// supervisor waits on a WaitGroup for healthy workers that serve.
func supervisor(ctx context.Context, ln net.Listener) {
	var wg sync.WaitGroup
	wg.Go(func() { acceptLoop(ln) })
	wg.Go(func() { tickerLoop(ctx) })
	wg.Wait() // supervisor-wait-site
}

// TestLeakHeuristicsRealGoroutines runs leaking programs of each class
// the heuristics judge (a send nobody receives, 1 and 1000 goroutines; a
// WaitGroup whose workers are stuck; a WaitGroup nobody will Done; a Cond
// whose signaller is stuck; a Cond barrier whose last worker waits on a
// channel) next to healthy look-alikes (Cond consumers idle, an idle pool, a
// ticker, an accept loop, HTTP keep-alive connections, database/sql's
// connection opener, a signal handler, a supervisor waiting on healthy
// workers), and checks that each leak is named at its site with a warning
// and that no healthy site draws a warning.
func TestLeakHeuristicsRealGoroutines(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()

	// Leaks.
	one := make(chan int)
	go sendResult(one)
	many := make(chan int)
	for range 1000 {
		go sendMany(many)
	}
	fan := make(chan int)
	wg.Go(func() { fanOut(fan, 3) })
	release := make(chan struct{})
	var misused sync.WaitGroup
	wg.Go(func() { misusedWaitGroup(release, &misused) })
	cond := sync.NewCond(&sync.Mutex{})
	var ready bool
	condRes := make(chan int)
	wg.Go(func() { condWaiter(cond, &ready, condRes) })
	bar := &barrier{n: 6}
	bar.cond = sync.NewCond(&bar.mu)
	barInput := make(chan int)
	var barStop atomic.Bool
	for id := range bar.n {
		wg.Go(func() { barrierWorker(id, bar, barInput, &barStop) })
	}
	defer func() {
		barStop.Store(true)
		close(barInput)
	}()
	defer func() {
		<-one
		for range 1000 {
			<-many
		}
		for range 3 {
			<-fan
		}
		misused.Done()
		close(release)
		<-condRes
	}()

	// Healthy look-alikes.
	consumerCond := sync.NewCond(&sync.Mutex{})
	var items int
	var consumersDone bool
	for range 4 {
		wg.Go(func() { condConsumer(consumerCond, &items, &consumersDone) })
	}
	defer func() {
		consumerCond.L.Lock()
		consumersDone = true
		consumerCond.L.Unlock()
		consumerCond.Broadcast()
	}()
	jobs := make(chan int)
	for range 8 {
		wg.Go(func() { poolWorker(jobs) })
	}
	defer close(jobs)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	wg.Go(func() { supervisor(ctx, ln) })
	defer ln.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()
	client := srv.Client()
	defer client.CloseIdleConnections()
	for range 3 {
		resp, err := client.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close() // keep-alive: read loops stay parked
	}
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGUSR2)
	defer signal.Stop(sigs)
	wg.Go(func() { signalWaiter(sigs) })
	defer func() { sigs <- syscall.SIGUSR2 }()

	s := newSampler(false)
	defer s.close()
	e, err := findings.NewEngine(findings.Config{Rules: map[string]findings.Rule{detectors.LeakName: {For: -1}}},
		detectors.NewLeak(detectors.LeakConfig{SuspectFor: 2 * time.Second, MinSpan: 3 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	leaks := map[string]string{
		"send-one-site":       detectors.CauseStuckSend,
		"send-many-site":      detectors.CauseStuckSend,
		"fan-out-send-site":   detectors.CauseStuckSend,
		"fan-out-wait-site":   detectors.CauseStuckWait,
		"misused-wait-site":   detectors.CauseStuckWait,
		"cond-signaller-site": detectors.CauseStuckSend,
		"cond-wait-site":      detectors.CauseStuckWait,
		"barrier-wait-site":   detectors.CauseStuckWait,
	}
	want := make(map[string]string, len(leaks)) // site → cause
	for m, c := range leaks {
		want[suspectSite(t, m)] = c
	}
	healthy := map[string]bool{}
	for _, m := range []string{"idle-pool-site", "ticker-site", "accept-site", "signal-site", "supervisor-wait-site", "cond-consumer-site"} {
		healthy[suspectSite(t, m)] = true
	}
	judge := func() (missing []string, bad []string) {
		got := map[string]model.Finding{}
		for _, f := range e.Findings() {
			if f.State != model.StateFiring || f.Level == model.LevelInfo {
				continue
			}
			got[f.Subject] = f
			if _, ok := want[f.Subject]; !ok {
				bad = append(bad, f.Subject+" ("+f.Cause+"): "+f.Title)
			}
		}
		for site, cause := range want {
			if f, ok := got[site]; !ok || f.Cause != cause || f.Level != model.LevelWarning {
				missing = append(missing, site+" "+cause)
			}
		}
		return missing, bad
	}
	deadline := time.Now().Add(40 * time.Second)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var missing, bad []string
	for {
		<-tick.C
		e.Run(s.take(t))
		missing, bad = judge()
		if len(bad) > 0 {
			t.Fatalf("warnings on healthy or unexpected sites: %s", strings.Join(bad, "; "))
		}
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not named: %s", strings.Join(missing, "; "))
		}
	}
	// Keep judging a few more passes: the healthy look-alikes have now
	// been idle for longer than SuspectFor too.
	for range 8 {
		<-tick.C
		e.Run(s.take(t))
		if _, bad = judge(); len(bad) > 0 {
			t.Fatalf("warnings on healthy or unexpected sites: %s", strings.Join(bad, "; "))
		}
	}
	for _, f := range e.Findings() {
		if f.Cause == detectors.CauseStuckWait {
			t.Log(f.Summary)
		}
	}
}

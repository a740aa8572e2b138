package agent

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/agent/capture"
	"github.com/asyncmon/asyncmon/collectors"
	"github.com/asyncmon/asyncmon/collectors/goroutines"
	"github.com/asyncmon/asyncmon/detectors"
	"github.com/asyncmon/asyncmon/findings"
	"github.com/asyncmon/asyncmon/model"
)

// markerSite returns "path/file.go:N" for the line of the calling test
// file that ends with "// marker".
func markerSite(t *testing.T, marker string) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(1)
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if strings.HasSuffix(sc.Text(), "// "+marker) {
			return file + ":" + strconv.Itoa(n)
		}
	}
	t.Fatalf("marker %q not found", marker)
	return ""
}

// getFindings reads /api/v1/findings.
func getFindings(t *testing.T, addr string, query string) []model.Finding {
	t.Helper()
	code, body := get(t, "http://"+addr+"/api/v1/findings"+query)
	if code != http.StatusOK {
		t.Fatalf("findings: %d %s", code, body)
	}
	var fs []model.Finding
	if err := json.Unmarshal([]byte(body), &fs); err != nil {
		t.Fatal(err)
	}
	return fs
}

// waitFinding polls the API at addr until a firing finding of detector
// satisfies ok, or fails at the deadline.
func waitFinding(t *testing.T, addr string, detector string, deadline time.Duration, ok func(model.Finding) bool) model.Finding {
	t.Helper()
	end := time.Now().Add(deadline)
	for {
		for _, f := range getFindings(t, addr, "?state=firing&detector="+detector) {
			if ok(f) {
				return f
			}
		}
		if time.Now().After(end) {
			t.Fatalf("no firing %s finding within %s; findings: %+v", detector, deadline, getFindings(t, addr, ""))
		}
		time.Sleep(100 * time.Millisecond) // polling interval, not a timing assumption
	}
}

// liveGroups is the real live goroutine collector, refreshing often.
func liveGroups() *goroutines.Collector {
	return goroutines.NewCollector(goroutines.Options{MinInterval: 300 * time.Millisecond, CPUBudget: 0.5})
}

// leakyLookup is a request path that leaks a goroutine per call: the
// worker waits to hand its answer to a caller that gave up.
func leakyLookup(reqCtx, srvCtx context.Context) {
	res := make(chan string)
	go func() {
		select { // agent-leak-site
		case res <- "answer":
		case <-srvCtx.Done():
		}
	}()
	select {
	case <-res:
	case <-reqCtx.Done():
	}
}

func TestLeakFindingEndToEnd(t *testing.T) {
	srvCtx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	t.Cleanup(stop)
	wg.Go(func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-srvCtx.Done():
				return
			case <-tick.C:
				reqCtx, cancel := context.WithCancel(srvCtx)
				cancel() // a caller that has already given up
				leakyLookup(reqCtx, srvCtx)
			}
		}
	})
	dir := t.TempDir()
	a := start(t, Options{
		Interval:   200 * time.Millisecond,
		Collectors: []model.Collector{liveGroups()},
		Detectors:  []model.Detector{detectors.NewLeak(detectors.LeakConfig{MinSpan: 3 * time.Second})},
		Lifecycle:  findings.Config{Rules: map[string]findings.Rule{detectors.LeakName: {For: -1}}},
		Capture:    capture.Options{Dir: dir, CPUProfile: 200 * time.Millisecond},
	})
	site := markerSite(t, "agent-leak-site")
	f := waitFinding(t, a.Addr(), detectors.LeakName, 60*time.Second, func(f model.Finding) bool { return f.Subject == site })
	if f.Level != model.LevelWarning || f.Cause != detectors.CauseGrowing {
		t.Errorf("got level %q cause %q, want warning growing", f.Level, f.Cause)
	}

	// Evidence: a goroutine dump at once, then block, mutex and CPU
	// profiles, all referenced by the finding and downloadable.
	end := time.Now().Add(30 * time.Second)
	for {
		fs := getFindings(t, a.Addr(), "?detector="+detectors.LeakName)
		if len(fs) > 0 && hasKinds(fs[0].Evidence.Captures, "goroutine", "block", "mutex", "cpu") {
			f = fs[0]
			break
		}
		if time.Now().After(end) {
			t.Fatalf("captures never all referenced: %+v", fs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var dumpID string
	for _, id := range f.Evidence.Captures {
		if strings.HasSuffix(id, "-goroutine") {
			dumpID = id
		}
	}
	code, body := get(t, "http://"+a.Addr()+"/api/v1/captures/"+dumpID)
	if code != http.StatusOK || !strings.Contains(body, "leakyLookup") {
		t.Fatalf("capture download: %d, dump mentions leakyLookup: %v", code, strings.Contains(body, "leakyLookup"))
	}
	code, body = get(t, "http://"+a.Addr()+"/api/v1/captures")
	var list []model.Capture
	if err := json.Unmarshal([]byte(body), &list); code != http.StatusOK || err != nil || len(list) < 4 {
		t.Fatalf("captures list: %d %v %s", code, err, body)
	}
	if code, _ := get(t, "http://"+a.Addr()+"/api/v1/captures/nope"); code != http.StatusNotFound {
		t.Errorf("unknown capture: %d, want 404", code)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".tmp") {
			t.Errorf("temporary file left in the capture dir: %s", e.Name())
		}
	}

	_, metrics := get(t, "http://"+a.Addr()+"/metrics")
	for _, want := range []string{
		`asyncmon_finding_active{detector="goroutine-leak",level="warning"} 1`,
		`asyncmon_findings_total{detector="goroutine-leak",level="warning"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if s := a.Latest(); len(s.Findings) == 0 {
		t.Error("the latest snapshot carries no findings")
	}
}

func hasKinds(ids []string, kinds ...string) bool {
	for _, k := range kinds {
		found := false
		for _, id := range ids {
			found = found || strings.HasSuffix(id, "-"+k)
		}
		if !found {
			return false
		}
	}
	return true
}

// digest is CPU-bound work done on a request path.
func digest(n int) uint64 {
	h := uint64(1469598103934665603)
	for i := range n {
		h ^= uint64(i)
		h *= 1099511628211 // agent-hot-site
	}
	return h
}

func TestStarvationNamesHotFunction(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	t.Cleanup(cancel)
	var sink atomic.Uint64
	for range 4 * runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for ctx.Err() == nil {
				sink.Add(digest(1 << 20))
			}
		})
	}
	a := start(t, Options{
		Detectors: []model.Detector{detectors.NewStarvation(detectors.StarvationConfig{})},
		Lifecycle: findings.Config{Rules: map[string]findings.Rule{detectors.StarvationName: {For: -1}}},
		Capture:   capture.Options{Dir: t.TempDir(), CPUProfile: time.Second},
	})
	// The profiler credits a sample to whichever line of the loop the
	// signal lands on (the header or the body, as the compiler lays them
	// out), so the promise checked is the hot function and its file.
	file, _, _ := strings.Cut(markerSite(t, "agent-hot-site"), ":")
	rel := filepath.Base(file) + ":"
	f := waitFinding(t, a.Addr(), detectors.StarvationName, 60*time.Second, func(f model.Finding) bool {
		for _, n := range f.Evidence.Notes {
			if strings.Contains(n, "hottest functions") {
				return true
			}
		}
		return false
	})
	var note string
	for _, n := range f.Evidence.Notes {
		if strings.Contains(n, "hottest functions") {
			note = n
		}
	}
	if !strings.Contains(note, "digest") || !strings.Contains(note, rel) {
		t.Fatalf("hot functions do not name digest at %s: %s", rel, note)
	}
	if f.Cause != detectors.CauseCPU {
		t.Errorf("cause %q, want %q", f.Cause, detectors.CauseCPU)
	}
	// Once the profile is in, the subject is the hot code's file:line.
	f = waitFinding(t, a.Addr(), detectors.StarvationName, 10*time.Second, func(f model.Finding) bool {
		return strings.HasPrefix(f.Subject, file+":")
	})
	if f.ID != "starvation:process" {
		t.Errorf("amended finding has ID %q, want starvation:process", f.ID)
	}
}

func TestStuckRequestWithStack(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	t.Cleanup(free)
	a := start(t, Options{
		Detectors: []model.Detector{detectors.NewStuckRequests(detectors.StuckConfig{After: time.Second})},
		Requests:  collectors.RequestsOptions{StackAfter: 500 * time.Millisecond},
		NoCapture: true,
	})
	h := a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release // stuck-handler-site
	}))
	srv := &http.Server{Handler: h}
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { _ = srv.Serve(ln) })
	t.Cleanup(func() { free(); _ = srv.Close(); wg.Wait() })
	wg.Go(func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/orders/42")
		if err == nil {
			resp.Body.Close()
		}
	})
	site := markerSite(t, "stuck-handler-site")
	f := waitFinding(t, a.Addr(), detectors.StuckName, 30*time.Second, func(f model.Finding) bool { return true })
	if f.Subject != site || len(f.Evidence.Stacks) == 0 || !strings.Contains(f.Summary, "/orders/42") {
		t.Fatalf("got subject %q (want %q), %d stacks: %s", f.Subject, site, len(f.Evidence.Stacks), f.Summary)
	}
	free()
}

// Two subsystems that take two locks in opposite order.
type books struct {
	ledger, audit sync.Mutex
	posted        int         // guarded by ledger and audit
	stolen        atomic.Bool // set when the test breaks the cycle
}

func (b *books) post(ready *sync.WaitGroup) {
	b.ledger.Lock()
	ready.Done()
	ready.Wait()
	b.audit.Lock() // agent-ab-site
	b.posted++
	b.audit.Unlock()
	if !b.stolen.Load() {
		b.ledger.Unlock()
	}
}

func (b *books) reconcile(ready *sync.WaitGroup) {
	b.audit.Lock()
	ready.Done()
	ready.Wait()
	b.ledger.Lock() // agent-ba-site
	_ = b.posted
	b.ledger.Unlock()
	b.audit.Unlock()
}

func TestDeadlockFindingEndToEnd(t *testing.T) {
	var b books
	var ready, wg sync.WaitGroup
	ready.Add(2)
	wg.Go(func() { b.post(&ready) })
	wg.Go(func() { b.reconcile(&ready) })
	t.Cleanup(func() {
		b.stolen.Store(true)
		b.ledger.Unlock() // breaks the cycle; see books.post
		wg.Wait()
	})
	a := start(t, Options{
		Interval:   200 * time.Millisecond,
		Collectors: []model.Collector{liveGroups()},
		Detectors:  []model.Detector{detectors.NewStall(detectors.StallConfig{StallFor: 3 * time.Second})},
		Capture:    capture.Options{Dir: t.TempDir(), NoCPUProfile: true},
	})
	f := waitFinding(t, a.Addr(), detectors.StallName, 60*time.Second, func(model.Finding) bool { return true })
	if f.Cause != detectors.CauseLockCycle || f.Level != model.LevelCritical {
		t.Fatalf("got cause %q level %q, want lock-cycle critical: %s", f.Cause, f.Level, f.Summary)
	}
	for _, m := range []string{"agent-ab-site", "agent-ba-site"} {
		if site := markerSite(t, m); !strings.Contains(f.Summary, site) {
			t.Errorf("summary does not name %s: %s", site, f.Summary)
		}
	}
}

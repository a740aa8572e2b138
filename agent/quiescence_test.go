package agent

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/detectors"
	"github.com/asyncmon/asyncmon/model"
)

// quiescenceChildEnv makes the test binary a batch job that deadlocks
// with the agent embedded; see TestQuiescenceChild.
const quiescenceChildEnv = "ASYNCMON_QUIESCENCE_CHILD"

// runBatch doubles four numbers with a pool of workers and waits for the
// workers to finish; but it never closes jobs, so the workers wait for
// more for ever and so does runBatch. Only the agent's goroutines are
// still alive, which is why the runtime does not report a deadlock.
func runBatch() {
	jobs := make(chan int)
	results := make(chan int)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for j := range jobs { // batch-worker-site
				results <- 2 * j
			}
		})
	}
	go func() {
		for range 4 {
			<-results
		}
	}()
	for i := range 4 {
		jobs <- i
	}
	wg.Wait() // the bug: close(jobs) is missing above
}

func TestQuiescenceChild(t *testing.T) {
	if os.Getenv(quiescenceChildEnv) == "" {
		t.Skip("runs only as the subprocess of TestQuiescenceOfABatchJob")
	}
	a, err := Start(context.Background(), Options{
		Addr:       "127.0.0.1:0",
		Interval:   200 * time.Millisecond,
		Collectors: []model.Collector{liveGroups()},
		Detectors:  []model.Detector{detectors.NewStall(detectors.StallConfig{StallFor: 3 * time.Second})},
		NoCapture:  true,
	})
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	fmt.Println("AGENT", a.Addr())
	runBatch()
}

func TestQuiescenceOfABatchJob(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestQuiescenceChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), quiescenceChildEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	sc := bufio.NewScanner(out)
	var addr string
	for addr == "" && sc.Scan() {
		if s, ok := strings.CutPrefix(sc.Text(), "AGENT "); ok {
			addr = s
		} else if strings.HasPrefix(sc.Text(), "ERROR") {
			t.Fatal(sc.Text())
		}
	}
	if addr == "" {
		t.Fatalf("child exited before printing its address: %v", sc.Err())
	}
	f := waitFinding(t, addr, detectors.StallName, 60*time.Second, func(f model.Finding) bool {
		return f.Cause == detectors.CauseQuiescence
	})
	if site := markerSite(t, "batch-worker-site"); !strings.Contains(f.Summary, site) || f.Level != model.LevelCritical {
		t.Fatalf("level %q, summary does not name %s: %s", f.Level, site, f.Summary)
	}
}

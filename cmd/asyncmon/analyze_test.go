package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/pprof"
	"os"
	"path/filepath"
	runtimepprof "runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/internal/offline"
	"github.com/asyncmon/asyncmon/internal/workload"
	"github.com/asyncmon/asyncmon/model"
)

// checkAnalyzeGroups returns why r does not hold exactly the acceptance
// workload's groups, or "".
func checkAnalyzeGroups(r *offline.Result) string {
	want := []struct {
		fn, wait string
		n        int
	}{
		{workload.ReceiverFunc, model.WaitChanRecv, 500},
		{workload.LockerFunc, model.WaitMutex, 100},
		{workload.SleeperFunc, model.WaitSleep, 50},
	}
	var msgs []string
	for _, w := range want {
		var found []model.GoroutineGroup
		for _, g := range r.Groups {
			if g.Site().Func == w.fn {
				found = append(found, g)
			}
		}
		if len(found) != 1 || found[0].Count != w.n || found[0].WaitReason != w.wait {
			var got []string
			for _, g := range found {
				got = append(got, fmt.Sprintf("%d×%s", g.Count, g.WaitReason))
			}
			msgs = append(msgs, fmt.Sprintf("%s: got %v, want one group %d×%s", w.fn, got, w.n, w.wait))
		}
	}
	return strings.Join(msgs, "; ")
}

// runAnalyzeJSON runs "asyncmon analyze ARGS --json" until the workload's
// groups show up (its goroutines take a moment to park) or a deadline.
func runAnalyzeJSON(t *testing.T, prepare func() []string) *offline.Result {
	t.Helper()
	deadline := time.Now().Add(4 * time.Second)
	for {
		args := append([]string{"analyze"}, prepare()...)
		args = append(args, "--json", "--limit", "0")
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
			t.Fatalf("asyncmon %v: exit %d: %s", args, code, stderr.String())
		}
		var r offline.Result
		if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
			t.Fatalf("decode: %v\n%s", err, stdout.String())
		}
		msg := checkAnalyzeGroups(&r)
		if msg == "" {
			return &r
		}
		if time.Now().After(deadline) {
			t.Fatalf("asyncmon %v: %s", args, msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAnalyzeAcceptance(t *testing.T) {
	w := workload.Start(workload.Counts{Recv: 500, Mutex: 100, Sleep: 50, SleepFor: 5 * time.Second})
	defer w.Stop()
	t.Run("file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "dump.txt")
		r := runAnalyzeJSON(t, func() []string {
			var b bytes.Buffer
			if err := runtimepprof.Lookup("goroutine").WriteTo(&b, 2); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			return []string{path}
		})
		if r.Format != "traceback" || r.Truncated || len(r.Errors) > 0 {
			t.Errorf("format %q truncated %t errors %v", r.Format, r.Truncated, r.Errors)
		}
		for _, g := range r.Groups {
			if g.Site().Func == workload.ReceiverFunc && (g.CreatedBy.IsZero() || len(g.SampleIDs) == 0) {
				t.Errorf("dump group without creator or IDs: %+v", g)
			}
		}
	})
	t.Run("url", func(t *testing.T) {
		// A plain net/http/pprof server: no agent.
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		srv := httptest.NewServer(mux)
		defer srv.Close()
		runAnalyzeJSON(t, func() []string { return []string{srv.URL} })
	})
}

func TestAnalyzeTable(t *testing.T) {
	var stdout, stderr bytes.Buffer
	dump := filepath.Join("..", "..", "collectors", "dump", "testdata", "dumps", "go1.26-labels-debug2-truncated.txt")
	if code := run(context.Background(), []string{"analyze", dump, "--stacks"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"20 goroutines in", "cut off", "main.recvWorker (main.go:36)", "chan receive", "created by main.main"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestAnalyzeErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		code int
	}{
		{"missing file", []string{"analyze", "/nonexistent/dump.txt"}, 1},
		{"bad key", []string{"analyze", "--key", "nope", "x"}, 2},
		{"not a dump", []string{"analyze", filepath.Join("testdata", "nodump.txt")}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), tt.args, &stdout, &stderr); code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, stderr.String())
			}
		})
	}
}

// TestAnalyzeRunsDetectors: the Go 1.26 goroutineleak dump has groups the
// runtime marked leaked, which the leak detector reports from one dump.
func TestAnalyzeRunsDetectors(t *testing.T) {
	var stdout, stderr bytes.Buffer
	dump := filepath.Join("..", "..", "collectors", "dump", "testdata", "dumps", "go1.26-leak-debug2.txt")
	if code := run(context.Background(), []string{"analyze", dump, "--json"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var r offline.Result
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	leaks := 0
	for _, f := range r.Findings {
		if f.Detector == "goroutine-leak" {
			leaks++
		}
	}
	if leaks == 0 {
		t.Errorf("no goroutine-leak finding in %d findings", len(r.Findings))
	}
	if len(r.NeedLive) == 0 {
		t.Error("the live-only detectors are not reported")
	}
}

// TestAnalyzeNamesACrash: pasted panic output (here on stdin) is read as
// a crash: the panic value, the goroutine and the user's line, and a
// critical crash finding.
func TestAnalyzeNamesACrash(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "collectors", "dump", "testdata", "dumps", "go1.26-panic.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := []string{"analyze", "-"}
	old := os.Stdin
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() { w.Write(b); w.Close() }()
	os.Stdin = r
	defer func() { os.Stdin = old }()
	if code := run(context.Background(), cmd, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"crash: panic: again: boom", "on goroutine 1 at main.main (main.go:136)", "[critical] crash: Crashed in main.main (gen/main.go:136): panic: again: boom"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

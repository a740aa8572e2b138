package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/pprof"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/agent"
	"github.com/asyncmon/asyncmon/agent/client"
	"github.com/asyncmon/asyncmon/model"
	"github.com/asyncmon/asyncmon/tui"
	"github.com/asyncmon/asyncmon/tui/clientsource"
)

func TestUICommandsUsage(t *testing.T) {
	dir := t.TempDir()
	future := filepath.Join(dir, "future.jsonl")
	os.WriteFile(future, []byte(`{"asyncmon_recording":9}`+"\n"), 0o600)
	dump := filepath.Join(dir, "dump.txt")
	os.WriteFile(dump, []byte("goroutine 1 [running]:\nmain.main()\n"), 0o600)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"attach help", []string{"attach", "-h"}, 0, "Usage: asyncmon attach"},
		{"attach without a terminal", []string{"attach", "127.0.0.1:1"}, 1, "needs a terminal"},
		{"attach too many", []string{"attach", "a:1", "b:2"}, 2, "too many arguments"},
		{"ls help", []string{"ls", "-h"}, 0, "Usage: asyncmon ls"},
		{"replay help", []string{"replay", "-h"}, 0, "Usage: asyncmon replay"},
		{"replay no file", []string{"replay"}, 2, "needs the recording FILE"},
		{"replay bad speed", []string{"replay", "--speed", "0", future}, 2, "--speed must be positive"},
		{"replay missing file", []string{"replay", filepath.Join(dir, "nope")}, 1, "no such file"},
		{"replay future version", []string{"replay", future}, 1, "version 9, this asyncmon reads up to version 1; upgrade asyncmon"},
		{"replay not a recording", []string{"replay", dump}, 1, "not an asyncmon recording"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tt.wantCode, stderr)
			}
			if !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("stderr %q does not contain %q", stderr, tt.wantErr)
			}
		})
	}
}

func TestLsAndResolveTarget(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	ctx := context.Background()

	code, out, _ := runCmd(t, "ls")
	if code != 0 || !strings.Contains(out, "no local agents") {
		t.Errorf("ls with no agents: %d %q", code, out)
	}
	if _, err := resolveTarget(ctx, "", nil); err == nil || !strings.Contains(err.Error(), "no local agent is running") {
		t.Errorf("resolve with no agents: %v", err)
	}

	a, err := agent.Start(ctx, agent.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	pid := strconv.Itoa(os.Getpid())
	code, out, _ = runCmd(t, "ls")
	if code != 0 || !strings.Contains(out, "PID") || !strings.Contains(out, pid) || !strings.Contains(out, a.Addr()) || !strings.Contains(out, " ok") {
		t.Errorf("ls: %d\n%s", code, out)
	}
	code, out, _ = runCmd(t, "ls", "--json")
	var got []client.LocalAgent
	if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil || len(got) != 1 || got[0].Addr != a.Addr() {
		t.Errorf("ls --json: %d %v %q", code, err, out)
	}

	for _, target := range []string{"", pid} {
		if addr, err := resolveTarget(ctx, target, nil); err != nil || addr != a.Addr() {
			t.Errorf("resolveTarget(%q) = %q, %v; want %s", target, addr, err, a.Addr())
		}
	}
	if addr, err := resolveTarget(ctx, "10.1.2.3:7071", nil); err != nil || addr != "10.1.2.3:7071" {
		t.Errorf("an address resolves to itself: %q, %v", addr, err)
	}
	if _, err := resolveTarget(ctx, "999999999", nil); err == nil || !strings.Contains(err.Error(), "no agent registered for pid 999999999") {
		t.Errorf("unknown pid: %v", err)
	}

	b, err := agent.Start(ctx, agent.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	_, err = resolveTarget(ctx, "", nil)
	if err == nil || !strings.Contains(err.Error(), "several local agents") || !strings.Contains(err.Error(), b.Addr()) {
		t.Errorf("two agents: %v", err)
	}
	// On a terminal the user picks one.
	addr, err := resolveTarget(ctx, "", func(_ context.Context, as []client.LocalAgent) (int, error) {
		for i, x := range as {
			if x.Addr == b.Addr() {
				return i, nil
			}
		}
		return 0, nil
	})
	if err != nil || addr != b.Addr() {
		t.Errorf("chosen agent: %q, %v; want %s", addr, err, b.Addr())
	}
}

// pprofOnly serves net/http/pprof the way a service that never embedded
// asyncmon does, and nothing else.
func pprofOnly(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestOpenSourceTellsAgentFromPprof(t *testing.T) {
	ctx := context.Background()
	a, err := agent.Start(ctx, agent.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	srv := pprofOnly(t)
	dead := httptest.NewServer(http.NotFoundHandler())
	deadAddr := dead.Listener.Addr().String()
	dead.Close()
	tests := []struct {
		name, addr string
		want       string
	}{
		{"agent", a.Addr(), "*clientsource.Source"},
		{"pprof only", srv.URL, "*main.pprofSource"},
		{"down: attach and wait", deadAddr, "*clientsource.Source"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := client.New(tt.addr)
			if err != nil {
				t.Fatal(err)
			}
			src, err := openSource(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if got := typeName(src); got != tt.want {
				t.Errorf("source %s, want %s", got, tt.want)
			}
		})
	}
	notPprof := httptest.NewServer(http.NotFoundHandler())
	defer notPprof.Close()
	c, _ := client.New(notPprof.URL)
	if _, err := openSource(ctx, c); err == nil || !strings.Contains(err.Error(), "neither an asyncmon agent") {
		t.Errorf("a plain web server: %v", err)
	}
}

func typeName(src tui.Source) string {
	switch src.(type) {
	case *clientsource.Source:
		return "*clientsource.Source"
	case *pprofSource:
		return "*main.pprofSource"
	}
	return "?"
}

// TestPprofSourceSamplesDumps reads a pprof-only target: it must report
// which views are unavailable, and deliver goroutine groups.
func TestPprofSourceSamplesDumps(t *testing.T) {
	srv := pprofOnly(t)
	c, err := client.New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var first tui.Update
	err = newPprofSource(c).Run(ctx, func(u tui.Update) {
		if first.Status == nil {
			first = u
			cancel()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if first.Status == nil || first.Status.Mode != "pprof only" {
		t.Fatalf("first update %+v, want a pprof-only status", first)
	}
	for _, v := range []tui.View{tui.ViewOverview, tui.ViewConnections} {
		if first.Status.Unavailable[v] == "" {
			t.Errorf("view %v not marked unavailable", v)
		}
	}
	if len(first.Snapshots) != 1 {
		t.Fatalf("got %d snapshots, want 1", len(first.Snapshots))
	}
	if s := first.Snapshots[0]; len(s.Groups) == 0 || s.Goroutines.Total == 0 {
		t.Errorf("no goroutine groups from the dump: %+v", s.Goroutines)
	}
}

// TestPprofSourceBlockingSites turns the block profile on in this
// process, blocks on a channel from a known function, and reads the sites
// through a plain net/http/pprof endpoint.
func TestPprofSourceBlockingSites(t *testing.T) {
	runtime.SetBlockProfileRate(1)
	defer runtime.SetBlockProfileRate(0)
	srv := pprofOnly(t)
	c, _ := client.New(srv.URL)
	src := newPprofSource(c)
	src.every = 50 * time.Millisecond

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { blockOnChannel(stop) })
	defer func() {
		close(stop)
		wg.Wait()
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var found *model.BlockingSite
	src.Run(ctx, func(u tui.Update) {
		for _, s := range u.Snapshots {
			for i, site := range s.Blocking.Block {
				if strings.HasSuffix(site.Site.Func, "blockOnChannel") {
					found = &s.Blocking.Block[i]
					cancel()
				}
			}
		}
	})
	if found == nil {
		t.Fatal("blockOnChannel never showed as a block site")
	}
	if found.Count == 0 || found.DelaySeconds <= 0 || len(found.Stack) == 0 {
		t.Errorf("site %+v, want events, delay and a stack", found)
	}
}

// blockOnChannel blocks on a channel receive about every millisecond.
func blockOnChannel(stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case <-time.After(time.Millisecond):
		}
	}
}

// TestPprofSourceNeverStopsTheWorld: attaching to a service that never
// embedded asyncmon must not poll goroutine?debug=2, a dump that stops the
// target's world for the whole goroutine walk; the concurrent protobuf
// profile gives the groups.
func TestPprofSourceNeverStopsTheWorld(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.URL.RequestURI())
		mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	defer srv.Close()
	c, _ := client.New(srv.URL)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	src, err := openSource(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	ps, ok := src.(*pprofSource)
	if !ok {
		t.Fatalf("source %s, want the pprof source", typeName(src))
	}
	ps.every = 10 * time.Millisecond
	updates := 0
	var groups int
	ps.Run(ctx, func(u tui.Update) {
		if len(u.Snapshots) > 0 {
			updates++
			groups = len(u.Snapshots[0].Groups)
		}
		if updates == 3 {
			cancel()
		}
	})
	if updates < 3 || groups == 0 {
		t.Fatalf("got %d updates, the last with %d groups; want 3 with groups", updates, groups)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, u := range asked {
		if strings.Contains(u, "goroutine") && !strings.Contains(u, "debug=0") {
			t.Errorf("asked the target for %s: a stop-the-world dump", u)
		}
	}
}

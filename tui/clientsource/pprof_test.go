package clientsource

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/pprof"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/agent"
	"github.com/asyncmon/asyncmon/agent/client"
	"github.com/asyncmon/asyncmon/model"
	"github.com/asyncmon/asyncmon/tui"
)

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
		{"pprof only", srv.URL, "*clientsource.PprofSource"},
		{"down: attach and wait", deadAddr, "*clientsource.Source"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := client.New(tt.addr)
			if err != nil {
				t.Fatal(err)
			}
			src, err := Open(ctx, c)
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
	if _, err := Open(ctx, c); err == nil || !strings.Contains(err.Error(), "neither an asyncmon agent") {
		t.Errorf("a plain web server: %v", err)
	}
}

func typeName(src tui.Source) string {
	switch src.(type) {
	case *Source:
		return "*clientsource.Source"
	case *PprofSource:
		return "*clientsource.PprofSource"
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
	err = NewPprof(c).Run(ctx, func(u tui.Update) {
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
	src := NewPprof(c)
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
	src, err := Open(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	ps, ok := src.(*PprofSource)
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

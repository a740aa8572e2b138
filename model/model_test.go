package model

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestWindow(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var w Window
	if w.Latest() != nil || w.Oldest() != nil || w.Span() != 0 || len(w.Since(t0).Snapshots) != 0 {
		t.Error("empty window is not empty")
	}
	for i := range 5 {
		w.Snapshots = append(w.Snapshots, &Snapshot{Seq: uint64(i + 1), Time: t0.Add(time.Duration(i) * time.Second)})
	}
	if w.Latest().Seq != 5 || w.Oldest().Seq != 1 {
		t.Errorf("Latest %d Oldest %d, want 5 and 1", w.Latest().Seq, w.Oldest().Seq)
	}
	if got := w.Span(); got != 4*time.Second {
		t.Errorf("Span = %v, want 4s", got)
	}
	if got := w.Since(t0.Add(2500 * time.Millisecond)); len(got.Snapshots) != 2 || got.Oldest().Seq != 4 {
		t.Errorf("Since(2.5s) = %d snapshots from %d, want 2 from 4", len(got.Snapshots), got.Oldest().Seq)
	}
	if got := w.Since(t0.Add(time.Hour)); len(got.Snapshots) != 0 {
		t.Errorf("Since(future) kept %d snapshots", len(got.Snapshots))
	}
}

func TestFrameSite(t *testing.T) {
	if got := (Frame{Func: "main.f", File: "/a/b.go", Line: 12}).Site(); got != "/a/b.go:12" {
		t.Errorf("Site = %q", got)
	}
	if got := (Frame{Func: "main.f"}).Site(); got != "main.f" {
		t.Errorf("Site without file = %q", got)
	}
	g := GoroutineGroup{CreatedBy: Frame{Func: "c"}, TopFrames: []Frame{{Func: "top"}}}
	if g.Site().Func != "top" {
		t.Errorf("group Site = %v, want the top frame", g.Site())
	}
	g.TopFrames = nil
	if g.Site().Func != "c" {
		t.Errorf("group Site = %v, want the creator without top frames", g.Site())
	}
}

func TestLevelRank(t *testing.T) {
	if !(LevelInfo.Rank() < LevelWarning.Rank() && LevelWarning.Rank() < LevelCritical.Rank()) || Level("x").Rank() != 0 {
		t.Error("levels are not ordered info < warning < critical, unknown 0")
	}
}

func TestLatencyBuckets(t *testing.T) {
	b := LatencyBuckets()
	if b[0] != 1e-6 || b[len(b)-1] != 10 {
		t.Errorf("buckets span %v..%v, want 1µs..10s", b[0], b[len(b)-1])
	}
	for i := 1; i < len(b); i++ {
		if b[i] <= b[i-1] {
			t.Fatalf("buckets not increasing at %d: %v", i, b)
		}
	}
}

func TestIsUserFunc(t *testing.T) {
	for fn, want := range map[string]bool{
		"net/http.(*Transport).dialConn": false,
		"runtime.gopark":                 false,
		"sync.(*Mutex).Lock":             false,
		"main.handler":                   true,
		"github.com/x/y.(*T).Run":        true,
		"example.com/svc.run.func1":      true,
		"mycorp/internal/db.Query":       true,
		"github.com/asyncmon/asyncmon/collectors.(*trackedConn).Read":  false,
		"github.com/asyncmon/asyncmon/collectors/conns.(*body).Read":   false,
		"github.com/asyncmon/asyncmon/agent.(*Agent).Middleware.func1": false,
		"github.com/asyncmon/asyncmon/demo.forwardUpdates":             true,
		"github.com/asyncmon/asyncmon/agentish.Run":                    true,
	} {
		if got := IsUserFunc(fn); got != want {
			t.Errorf("IsUserFunc(%q) = %v, want %v", fn, got, want)
		}
	}
	if (Frame{}).IsUser() {
		t.Error("the zero frame is user code")
	}
}

func TestFormatSeconds(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 1.28e-7: "128ns", 14e-6: "14.0µs", 0.0221: "22.1ms", 2.5: "2.50s", 190: "3m10s", -0.5: "-500ms"} {
		if got := FormatSeconds(in); got != want {
			t.Errorf("FormatSeconds(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestFrameShort(t *testing.T) {
	for _, tc := range []struct {
		f                 Frame
		fn, site, display string
	}{
		{Frame{Func: "github.com/a/b/pkg.(*T).M", File: "/src/b/pkg/t.go", Line: 42}, "pkg.(*T).M", "t.go:42", "pkg.(*T).M (t.go:42)"},
		{Frame{Func: "main.main"}, "main.main", "main.main", "main.main"},
		{Frame{}, "", "", "-"},
	} {
		if got := tc.f.ShortFunc(); got != tc.fn {
			t.Errorf("%v.ShortFunc() = %q, want %q", tc.f, got, tc.fn)
		}
		if got := tc.f.ShortSite(); got != tc.site {
			t.Errorf("%v.ShortSite() = %q, want %q", tc.f, got, tc.site)
		}
		if got := tc.f.Short(); got != tc.display {
			t.Errorf("%v.Short() = %q, want %q", tc.f, got, tc.display)
		}
	}
}

func TestIsUserFuncDumpForms(t *testing.T) {
	for fn, want := range map[string]bool{
		"main.main":                          true,
		"github.com/x/y.(*T).M":              true,
		"net/http.(*conn).serve":             false,
		"runtime.gopark":                     false,
		"internal/poll.runtime_pollWait":     false,
		"sync.(*Mutex).Lock":                 false,
		"example.com/internal/foo.Bar":       true,
		"command-line-arguments.TestX":       true,
		"golang.org/x/sync/errgroup.(*G).Go": true,
	} {
		if got := IsUserFunc(fn); got != want {
			t.Errorf("IsUserFunc(%q) = %t, want %t", fn, got, want)
		}
	}
}

// TestDurationsAreSecondsInJSON: every duration in the JSON is float
// seconds named *_seconds, and decodes back.
func TestDurationsAreSecondsInJSON(t *testing.T) {
	g := GoroutineGroup{Key: "k", Count: 2, MaxWait: 3 * time.Minute, Labels: map[string]string{"a": "b"}}
	data, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"max_wait_seconds":180`) || strings.Contains(string(data), "_ns") {
		t.Errorf("group JSON %s, want max_wait_seconds 180 and no _ns field", data)
	}
	var back GoroutineGroup
	if err := json.Unmarshal(data, &back); err != nil || back.MaxWait != g.MaxWait || back.Key != "k" || back.Labels["a"] != "b" {
		t.Errorf("decoded %+v (%v), want %+v", back, err, g)
	}
	gr := Goroutine{ID: 7, Wait: 2 * time.Minute}
	data, _ = json.Marshal(gr)
	var gback Goroutine
	if err := json.Unmarshal(data, &gback); err != nil || gback.Wait != gr.Wait || gback.ID != 7 || !strings.Contains(string(data), `"wait_seconds":120`) {
		t.Errorf("goroutine JSON %s decoded %+v (%v)", data, gback, err)
	}
	if err := json.Unmarshal([]byte(`{"max_wait_seconds":1e300}`), &back); err != nil || back.MaxWait <= 0 {
		t.Errorf("huge wait: %v, %v; want clamped", back.MaxWait, err)
	}
}

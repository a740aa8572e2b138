package dump

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/model"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// dumpFiles returns the real dumps in testdata/dumps (see testdata/gen).
func dumpFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/dumps/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no dumps in testdata/dumps")
	}
	return files
}

// render is the golden form of a parsed dump: one line per goroutine and
// frame, easy to review in a diff.
func render(d *Dump, err error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "format=%s total=%d goroutines=%d records=%d truncated=%t err=%v\n",
		d.Format, d.Total, len(d.Goroutines), len(d.Records), d.Truncated, err)
	for _, e := range d.Errors {
		fmt.Fprintf(&b, "error %v\n", e)
	}
	frames := func(g *model.Goroutine) {
		for _, f := range g.Frames {
			fmt.Fprintf(&b, "  %s %s\n", f.Func, f.Site())
		}
		if g.FramesElided {
			b.WriteString("  (elided)\n")
		}
		if !g.CreatedBy.IsZero() {
			fmt.Fprintf(&b, "  created by %s %s in %d\n", g.CreatedBy.Func, g.CreatedBy.Site(), g.ParentID)
		}
	}
	for i := range d.Goroutines {
		g := &d.Goroutines[i]
		fmt.Fprintf(&b, "goroutine %d [%s] reason=%q wait=%v locked=%t leaked=%t labels=%v\n",
			g.ID, g.State, g.WaitReason, g.Wait, g.LockedToThread, g.Leaked, LabelString(g.Labels))
		frames(g)
	}
	for i := range d.Records {
		r := &d.Records[i]
		fmt.Fprintf(&b, "record %d pcs=%d reason=%q labels=%v\n", r.Count, len(r.PCs), r.Goroutine.WaitReason, LabelString(r.Goroutine.Labels))
		frames(&r.Goroutine)
	}
	return b.String()
}

// normalizeAddrs hides what changes from run to run in a generated dump
// header: nothing does today, but wait minutes could.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update)", err, t.Name())
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s is stale (-want +got), rerun with -update if the change is right:\n%s", path, diff)
	}
}

func parseFile(t testing.TB, path string) (*Dump, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return Parse(f)
}

func TestParseDumpGolden(t *testing.T) {
	for _, path := range dumpFiles(t) {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			d, err := parseFile(t, path)
			golden(t, strings.TrimSuffix(name, ".txt")+".golden", render(d, err))
			if err != nil {
				t.Errorf("Parse: %v", err)
			}
			cut := strings.Contains(name, "truncated")
			if d.Truncated != cut {
				t.Errorf("Truncated = %t, want %t", d.Truncated, cut)
			}
		})
	}
	t.Run("stale", func(t *testing.T) {
		if *update {
			t.Skip("updating")
		}
		// Every golden file has its dump: a removed dump must take its
		// golden with it.
		goldens, _ := filepath.Glob("testdata/golden/*.golden")
		for _, g := range goldens {
			base := strings.TrimSuffix(filepath.Base(g), ".golden")
			if _, err := os.Stat(filepath.Join("testdata", "dumps", base+".txt")); err != nil {
				t.Errorf("%s has no dump in testdata/dumps", g)
			}
		}
	})
}

// siteCount counts goroutines by the function of their top user frame
// and wait reason.
// siteCount counts goroutines by their innermost user frame and wait
// reason. The grouping's top frame is the same for every goroutine these
// tests count (all start in package main).
func siteCount(gs []model.Goroutine) map[string]int {
	m := make(map[string]int)
	for i := range gs {
		top := ""
		for _, f := range gs[i].Frames {
			if model.IsUserFunc(f.Func) {
				top = f.Func
				break
			}
		}
		m[top+" "+gs[i].WaitReason]++
	}
	return m
}

// TestParseDumpKnownGoroutines checks the goroutines that testdata/gen
// starts, in the dumps of every Go version.
func TestParseDumpKnownGoroutines(t *testing.T) {
	want := map[string]int{
		"main.recvWorker chan receive":       3,
		"main.sendWorker chan send":          2,
		"main.lockWorker mutex":              2,
		"main.main.func1 mutex":              1, // RWMutex.RLock
		"main.main.func2 cond":               1,
		"main.main.func3 waitgroup":          1,
		"main.(*server).loop select":         1,
		"main.main.func4 nil chan":           1, // select {}
		"main.main.func5 nil chan":           1, // <-nil
		"main.main.func6 sleep":              1,
		"main.main.func7 io wait":            1, // pipe read
		"main.main.func8 io wait":            1, // Accept
		"main.main.func9 chan receive":       1, // locked to thread
		"main.main.func10 chan receive":      1, // labelled
		"main.deep chan receive":             1,
		"main.genericWait[...] chan receive": 1,
	}
	for _, path := range dumpFiles(t) {
		name := filepath.Base(path)
		if !strings.Contains(name, "debug2") || strings.Contains(name, "leak") || strings.Contains(name, "truncated") {
			continue
		}
		t.Run(name, func(t *testing.T) {
			d, err := parseFile(t, path)
			if err != nil {
				t.Fatal(err)
			}
			got := siteCount(d.Goroutines)
			for k, n := range want {
				if got[k] != n {
					t.Errorf("%s: got %d goroutines, want %d", k, got[k], n)
				}
			}
			var locked, labelled, elided int
			for _, g := range d.Goroutines {
				if g.LockedToThread {
					locked++
				}
				if g.Labels["shard"] == "7 \"q\"" && g.Labels["worker"] == "pool" {
					labelled++
				}
				if g.FramesElided {
					elided++
				}
				if g.ID != 1 && g.CreatedBy.IsZero() && model.IsUserFunc(StartFrame(&g).Func) {
					t.Errorf("goroutine %d: no creator", g.ID)
				}
			}
			if locked != 1 {
				t.Errorf("got %d goroutines locked to thread, want 1", locked)
			}
			if elided != 1 {
				t.Errorf("got %d goroutines with elided frames, want 1", elided)
			}
			if strings.Contains(name, "labels") && labelled != 1 {
				t.Errorf("got %d labelled goroutines, want 1", labelled)
			}
		})
	}
}

func TestParseDumpLeaked(t *testing.T) {
	path := "testdata/dumps/go1.26-leak-debug2.txt"
	if _, err := os.Stat(path); err != nil {
		// The fixture is committed; a missing one is a broken checkout, not
		// a reason to pass.
		t.Fatalf("fixture missing (regenerate with testdata/gen): %v", err)
	}
	d, err := parseFile(t, path)
	if err != nil {
		t.Fatal(err)
	}
	var leaked []int64
	for _, g := range d.Goroutines {
		if g.Leaked {
			leaked = append(leaked, g.ID)
		}
	}
	if len(leaked) == 0 {
		t.Errorf("no goroutine marked (leaked)")
	}
}

// TestParseDumpCut cuts real dumps at many offsets, as the runtime's
// 64 MiB limit and copy-and-paste do: the goroutines before the cut must
// be exactly those of the full dump, and the cut must be reported.
func TestParseDumpCut(t *testing.T) {
	for _, path := range dumpFiles(t) {
		name := filepath.Base(path)
		if strings.Contains(name, "truncated") {
			continue
		}
		full, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		fd, err := Parse(bytes.NewReader(full))
		if err != nil {
			t.Fatal(err)
		}
		t.Run(name, func(t *testing.T) {
			step := max(1, len(full)/97)
			first, last := goroutineSpan(full)
			for cut := 1; cut < len(full); cut += step {
				d, _ := Parse(bytes.NewReader(full[:cut]))
				if len(d.Errors) > 0 {
					t.Fatalf("cut at %d: %v", cut, d.Errors[0])
				}
				// All but the last goroutine are complete.
				n := len(d.Goroutines)
				if n > len(fd.Goroutines) {
					t.Fatalf("cut at %d: %d goroutines, the full dump has %d", cut, n, len(fd.Goroutines))
				}
				if n > 1 {
					if diff := cmp.Diff(fd.Goroutines[:n-1], d.Goroutines[:n-1]); diff != "" {
						t.Fatalf("cut at %d: goroutines differ (-full +cut):\n%s", cut, diff)
					}
				}
				if full[cut-1] != '\n' && cut > first && cut <= last && !d.Truncated {
					t.Fatalf("cut at %d mid-line inside the goroutines: not reported truncated", cut)
				}
			}
		})
	}
}

// goroutineSpan returns the offsets of the first goroutine header and of
// the end of the last goroutine of a dump.
func goroutineSpan(full []byte) (first, last int) {
	first = bytes.Index(full, []byte("goroutine "))
	lastHdr := bytes.LastIndex(full, []byte("\ngoroutine "))
	if lastHdr < 0 {
		lastHdr = first
	}
	last = len(full)
	if i := bytes.Index(full[lastHdr+1:], []byte("\n\n")); i >= 0 {
		last = lastHdr + 1 + i + 1
	}
	return first, last
}

func TestParseDumpMalformed(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		wantLines []int
		wantN     int
	}{
		{
			name:      "file line without function",
			in:        "goroutine 1 [running]:\n\t/x.go:1 +0x1\nmain.main()\n\t/x.go:2 +0x1\n",
			wantLines: []int{2},
			wantN:     1,
		},
		{
			name:      "garbage frame",
			in:        "goroutine 1 [running]:\nmain.main()\n\t/x.go:2 +0x1\n%%% nonsense\n\ngoroutine 2 [select]:\nmain.f()\n\t/x.go:3\n",
			wantLines: []int{4},
			wantN:     2,
		},
		{
			name:      "bad file line",
			in:        "goroutine 1 [running]:\nmain.main()\n\t/x.go:abc\n",
			wantLines: []int{3},
			wantN:     1,
		},
		{
			name:      "bad labels",
			in:        "goroutine 1 [select labels:{\"a\" \"b\"}]:\nmain.main()\n\t/x.go:1\n",
			wantLines: []int{1},
			wantN:     1,
		},
		{
			name:      "bad profile record",
			in:        "goroutine profile: total 2\nx @ 0x1\n",
			wantLines: []int{2},
			wantN:     0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse(strings.NewReader(tt.in))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *ParseError", err)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("line %d:", tt.wantLines[0])) {
				t.Errorf("error %q does not name line %d", err, tt.wantLines[0])
			}
			var lines []int
			for _, e := range d.Errors {
				lines = append(lines, e.Line)
			}
			if !slices.Equal(lines, tt.wantLines) {
				t.Errorf("error lines = %v, want %v", lines, tt.wantLines)
			}
			if len(d.Goroutines) != tt.wantN {
				t.Errorf("got %d goroutines, want %d", len(d.Goroutines), tt.wantN)
			}
		})
	}
}

func TestParseDumpHeaders(t *testing.T) {
	tests := []struct {
		line string
		want model.Goroutine
	}{
		{"goroutine 1 [running]:", model.Goroutine{ID: 1, State: "running", WaitReason: model.WaitRunning}},
		{"goroutine 18 [chan receive, 3 minutes]:", model.Goroutine{ID: 18, State: "chan receive", WaitReason: model.WaitChanRecv, Wait: 3 * time.Minute}},
		{"goroutine 5 gp=0xc000007a40 m=nil [select, locked to thread]:", model.Goroutine{ID: 5, State: "select", WaitReason: model.WaitSelect, LockedToThread: true}},
		{"goroutine 5 gp=0xc0 m=2 mp=0xc0 [IO wait, 12 minutes, locked to thread]:", model.Goroutine{ID: 5, State: "IO wait", WaitReason: model.WaitIO, Wait: 12 * time.Minute, LockedToThread: true}},
		{"goroutine 7 [chan receive (leaked)]:", model.Goroutine{ID: 7, State: "chan receive", WaitReason: model.WaitChanRecv, Leaked: true}},
		{"goroutine 7 [select (no cases)]:", model.Goroutine{ID: 7, State: "select (no cases)", WaitReason: model.WaitNilChan}},
		{"goroutine 7 [chan receive (durable), synctest bubble 3]:", model.Goroutine{ID: 7, State: "chan receive (durable)", WaitReason: model.WaitChanRecv}},
		{`goroutine 9 [chan receive, 1 minutes labels:{"k": "v", "x\ty": "\u00e9\""}]:`, model.Goroutine{ID: 9, State: "chan receive", WaitReason: model.WaitChanRecv, Wait: time.Minute, Labels: map[string]string{"k": "v", "x\ty": "é\""}}},
		// Go 1.27 prints labels after the brackets, quoting only what needs it.
		{`goroutine 9 [chan receive, 1 minutes] {route: /api/x, "a b": "c\"d", e: }:`, model.Goroutine{ID: 9, State: "chan receive", WaitReason: model.WaitChanRecv, Wait: time.Minute, Labels: map[string]string{"route": "/api/x", "a b": `c"d`, "e": ""}}},
		{`goroutine 4 gp=0xc0 m=nil [select, locked to thread] {k: "v] {w}"}:`, model.Goroutine{ID: 4, State: "select", WaitReason: model.WaitSelect, LockedToThread: true, Labels: map[string]string{"k": "v] {w}"}}},
		{"goroutine 3 [GC worker (idle)]:", model.Goroutine{ID: 3, State: "GC worker (idle)", WaitReason: model.WaitGC}},
		{"goroutine 3 [something new]:", model.Goroutine{ID: 3, State: "something new", WaitReason: model.WaitOther}},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			d, err := Parse(strings.NewReader(tt.line + "\nmain.f()\n\t/a.go:1\n"))
			if err != nil {
				t.Fatal(err)
			}
			got := d.Goroutines[0]
			got.Frames = nil
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseDumpNoGoroutines(t *testing.T) {
	_, err := Parse(strings.NewReader("<html>404 page not found</html>\n"))
	if !errors.Is(err, ErrNoGoroutines) {
		t.Errorf("err = %v, want ErrNoGoroutines", err)
	}
}

// FuzzParse feeds the parser real dumps and mutations of them. Grouping
// what it parsed is fuzzed in collectors/goroutines (FuzzGroupDump).
func FuzzParse(f *testing.F) {
	for _, path := range dumpFiles(f) {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		if len(b) > 16<<10 {
			b = b[:16<<10]
		}
		f.Add(b)
	}
	f.Add([]byte("fatal error: concurrent map writes\n\ngoroutine 5 [running]:\ninternal/runtime/maps.fatal({0x1, 0x2})\n\t/go/src/runtime/panic.go:1191 +0x18\nruntime.mapassign_faststr(0x1)\n\t/go/src/internal/runtime/maps/runtime_faststr.go:265 +0x1\nmain.count()\n\t/src/main.go:9 +0x2\n"))
	f.Add([]byte("goroutine 1 [running labels:{\"a\": \"\\\"\"}]:\nmain.main()\n\t/x.go:1\ncreated by x in goroutine 2\n\t/y.go:3 +0x1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Parse(bytes.NewReader(b))
		if d == nil {
			t.Fatal("nil dump")
		}
		if len(d.Errors) > maxParseErrors {
			t.Fatalf("%d errors kept", len(d.Errors))
		}
		if err == nil && len(d.Goroutines) == 0 && len(d.Records) == 0 {
			t.Fatal("no goroutines and no error")
		}
		for i := range d.Goroutines {
			if w := d.Goroutines[i].WaitReason; !validWaitReason(w) {
				t.Fatalf("wait reason %q not in the bounded set", w)
			}
		}
		for _, c := range []*model.Crash{d.Crash, CompleteCrash(d, b)} {
			if c == nil {
				continue
			}
			switch c.Kind {
			case CrashPanic, CrashFatal, CrashSignal, crashOther:
			default:
				t.Fatalf("crash kind %q", c.Kind)
			}
			if len(c.Message) > maxCrashMessage {
				t.Fatalf("crash message of %d bytes", len(c.Message))
			}
		}
	})
}

func validWaitReason(w string) bool {
	switch w {
	case model.WaitRunning, model.WaitRunnable, model.WaitChanRecv, model.WaitChanSend,
		model.WaitSelect, model.WaitNilChan, model.WaitMutex, model.WaitCond, model.WaitWaitGroup,
		model.WaitIO, model.WaitSleep, model.WaitSyscall, model.WaitGC, model.WaitRuntime, model.WaitOther:
		return true
	}
	return false
}

// TestParseDumpCRLF: a dump saved on Windows parses like the original.
func TestParseDumpCRLF(t *testing.T) {
	lf, err := os.ReadFile("testdata/dumps/go1.26-labels-debug2.txt")
	if err != nil {
		t.Fatal(err)
	}
	want, err := Parse(bytes.NewReader(lf))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(bytes.NewReader(bytes.ReplaceAll(lf, []byte("\n"), []byte("\r\n"))))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CRLF dump differs (-LF +CRLF):\n%s", diff)
	}
}

// TestParseDumpLogPrefix: a dump copied from logs that prefix every line
// (here a fixed-width timestamp and host) parses like the plain dump.
func TestParseDumpLogPrefix(t *testing.T) {
	plain, err := os.ReadFile("testdata/dumps/go1.26-labels-panic-all.txt")
	if err != nil {
		t.Fatal(err)
	}
	want, err := Parse(bytes.NewReader(plain))
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	for i, line := range strings.Split(strings.TrimSuffix(string(plain), "\n"), "\n") {
		prefix := fmt.Sprintf("2026-11-27T00:%02d:%02d.%03dZ web-1 ", i/60%60, i%60, i%1000)
		logged.WriteString(strings.TrimRight(prefix+line, " ") + "\n")
	}
	got, err := Parse(&logged)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("prefixed dump differs (-plain +prefixed):\n%s", diff)
	}
}

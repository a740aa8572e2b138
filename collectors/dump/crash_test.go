package dump

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/model"
)

// TestCrashFromPanicDumps: every recorded panic traceback (Go 1.21 to
// 1.26, GOTRACEBACK single and all) names the panic that crashed (the
// re-panic's value) and the user's frame that raised the first panic.
func TestCrashFromPanicDumps(t *testing.T) {
	files, _ := filepath.Glob("testdata/dumps/*-panic*.txt")
	if len(files) == 0 {
		t.Fatal("no panic dumps in testdata/dumps")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			d, err := Parse(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			c := d.Crash
			if c == nil {
				t.Fatal("no crash found")
			}
			if c.Kind != CrashPanic || c.Message != "again: boom" || c.GoroutineID != 1 ||
				c.Site.Func != "main.main" || !strings.HasSuffix(c.Site.File, "main.go") || len(c.Stack) == 0 {
				t.Errorf("crash = %+v", *c)
			}
		})
	}
	// A plain goroutine dump is no crash.
	d, err := Parse(bytes.NewReader(must(os.ReadFile("testdata/dumps/go1.26-debug2.txt"))))
	if err != nil || d.Crash != nil {
		t.Errorf("debug=2 dump: crash %+v, err %v", d.Crash, err)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

const crashChildEnv = "ASYNCMON_DUMP_CRASH_CHILD"

// unlockTwice is the bug the child crashes on.
func unlockTwice(mu *sync.Mutex) {
	mu.Lock()
	//lint:ignore SA2001 the point is the second Unlock below
	mu.Unlock()
	mu.Unlock() // fatal error here
}

// TestCrashChild is the crashing subprocess of TestCrashFromRuntime.
func TestCrashChild(t *testing.T) {
	mode := os.Getenv(crashChildEnv)
	if out := os.Getenv(crashChildEnv + "_OUT"); out != "" {
		f, err := os.Create(out)
		if err != nil {
			t.Fatal(err)
		}
		if err := debug.SetCrashOutput(f, debug.CrashOptions{}); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	switch mode {
	case "":
		t.Skip("runs only as the subprocess of TestCrashFromRuntime")
	case "unlock":
		unlockTwice(new(sync.Mutex))
	case "deadlock":
		ch := make(chan int)
		<-ch // all goroutines are asleep
	case "nil":
		var m *model.Crash
		_ = m.Message // nil dereference
	}
}

// TestCrashFromRuntime crashes a real process in three ways and reads
// its output: a runtime fatal error, the deadlock check, and a nil
// dereference.
func TestCrashFromRuntime(t *testing.T) {
	for _, tc := range []struct {
		mode, kind, message, site string
	}{
		{"unlock", CrashFatal, "sync: unlock of unlocked mutex", "dump.unlockTwice"},
		{"deadlock", CrashFatal, "all goroutines are asleep - deadlock!", ""},
		{"nil", CrashPanic, "runtime error: invalid memory address or nil pointer dereference", "dump.TestCrashChild"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			if tc.mode == "deadlock" && raceBuild {
				// scripts/test.sh runs this package without -race too,
				// so the deadlock case runs there.
				t.Skip("the race detector's runtime never reports all goroutines asleep")
			}
			// A child that fails to crash must not hang the suite.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1", "-test.timeout=0")
			// The runtime's crash output (debug.SetCrashOutput) gets a
			// copy of the report, without a fatal error's message line.
			file := filepath.Join(t.TempDir(), "crash.out")
			cmd.Env = append(os.Environ(), crashChildEnv+"="+tc.mode, crashChildEnv+"_OUT="+file, "GOTRACEBACK=single")
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the child did not crash:\n%s", out)
			}
			d, _ := Parse(bytes.NewReader(out))
			if d == nil || d.Crash == nil {
				t.Fatalf("no crash found in:\n%s", out)
			}
			fromFile, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			fd, _ := Parse(bytes.NewReader(fromFile))
			if fc := CompleteCrash(fd, fromFile); fc == nil || fc.Kind != tc.kind || fc.Message != tc.message || fc.Site != d.Crash.Site {
				t.Errorf("from the crash output file: %+v, want %+v\n%s", fc, d.Crash, fromFile)
			}
			c := d.Crash
			// Deadlock: goroutine 1 is the testing package's, and no
			// frame here counts as the user's (asyncmon's own code).
			if c.Kind != tc.kind || c.Message != tc.message || c.Site.IsZero() ||
				(tc.site != "" && (!strings.HasSuffix(c.Site.Func, tc.site) || !strings.HasSuffix(c.Site.File, "crash_test.go"))) {
				t.Errorf("crash = %+v\nfrom:\n%s", *c, out)
			}
		})
	}
}

// TestFatalFromFrames: the fatal errors a crash output file lacks the
// message of are named from the crashing goroutine's frames.
func TestFatalFromFrames(t *testing.T) {
	fr := func(fns ...string) []model.Frame {
		var out []model.Frame
		for _, fn := range fns {
			out = append(out, model.Frame{Func: fn})
		}
		return append(out, model.Frame{Func: "main.work"})
	}
	for _, tc := range []struct {
		frames []model.Frame
		want   string
		ok     bool
	}{
		{fr("internal/runtime/maps.fatal", "runtime.mapassign_faststr"), "concurrent map writes", true},
		{fr("internal/runtime/maps.fatal", "runtime.mapaccess1_fast64"), "concurrent map read and map write", true},
		{fr("internal/runtime/maps.fatal", "internal/runtime/maps.(*Iter).Next", "runtime.mapiternext"), "concurrent map iteration and map write", true},
		{fr("internal/sync.fatal", "internal/sync.(*Mutex).unlockSlow", "sync.(*Mutex).Unlock"), "sync: unlock of unlocked mutex", true},
		{fr("sync.fatal", "sync.(*RWMutex).RUnlock"), "sync: RUnlock of unlocked RWMutex", true},
		{fr("runtime.throw", "runtime.newstack"), FatalUnknown, true},
		{fr("runtime.gopark", "runtime.chanrecv1"), "", false},
	} {
		got, ok := fatalFromFrames(tc.frames)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%v: got %q %v, want %q %v", tc.frames[:len(tc.frames)-1], got, ok, tc.want, tc.ok)
		}
	}
}

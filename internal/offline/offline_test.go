package offline

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/internal/workload"
	"github.com/asyncmon/asyncmon/model"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestDumpURL(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"http://localhost:6060", "http://localhost:6060/debug/pprof/goroutine?debug=2"},
		{"http://h:1/", "http://h:1/debug/pprof/goroutine?debug=2"},
		{"https://h/x/debug/pprof/goroutine", "https://h/x/debug/pprof/goroutine?debug=2"},
		{"http://h/debug/pprof/goroutine?debug=1", "http://h/debug/pprof/goroutine?debug=1"},
	} {
		got, err := DumpURL(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("DumpURL(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := DumpURL("http://"); err == nil {
		t.Error("DumpURL without host: no error")
	}
}

func TestRunStdin(t *testing.T) {
	f, err := os.Open("../../collectors/dump/testdata/dumps/go1.21-panic-all.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out strings.Builder
	if err := Run(context.Background(), "-", &out, false, 0, false, Options{Stdin: f}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "20 goroutines in") || !strings.Contains(out.String(), "main.recvWorker") {
		t.Errorf("unexpected output:\n%s", out.String())
	}
}

func TestLoadProto(t *testing.T) {
	w := workload.Start(workload.Counts{Recv: 9, Mutex: 4})
	defer w.Stop()
	deadline := time.Now().Add(4 * time.Second)
	for {
		var b bytes.Buffer
		if err := pprof.Lookup("goroutine").WriteTo(&b, 0); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "goroutine.pb.gz")
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		d, err := Load(context.Background(), path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		r := Analyze(path, d, Options{})
		var recv, lock int
		for _, g := range r.Groups {
			switch {
			case g.Site().Func == workload.ReceiverFunc && g.WaitReason == model.WaitChanRecv:
				recv += g.Count
			case g.Site().Func == workload.LockerFunc && g.WaitReason == model.WaitMutex:
				lock += g.Count
			}
		}
		if recv == 9 && lock == 4 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %d receivers and %d lockers, want 9 and 4", recv, lock)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

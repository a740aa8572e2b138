package analyze

import (
	"context"
	"os"
	"strings"
	"testing"
)

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
	f, err := os.Open("../../collectors/testdata/dumps/go1.21-panic-all.txt")
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

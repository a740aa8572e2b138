package collectors

import (
	"context"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/model"
)

func TestParseHostCPU(t *testing.T) {
	busy, total, err := parseHostCPU("cpu  100 5 50 800 20 3 2 10 7 0\n")
	if err != nil || busy != 170 || total != 990 {
		t.Errorf("busy %d total %d (%v), want 170 and 990 (steal counted busy, iowait idle, guest inside user)", busy, total, err)
	}
	for _, bad := range []string{"", "intr 1 2 3", "cpu 1 2 x 4 5 6 7 8"} {
		if _, _, err := parseHostCPU(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestRuntimeHostCPU checks that the runtime collector measures the
// host's busy share: a real spin between two collections makes it
// positive, and it is a share.
func TestRuntimeHostCPU(t *testing.T) {
	r := NewRuntime()
	var a, b model.Snapshot
	if err := r.Collect(context.Background(), &a); err != nil {
		t.Fatal(err)
	}
	if a.Process.HostCPUBusy != 0 {
		t.Errorf("first collection: host busy %v, want 0 (no interval yet)", a.Process.HostCPUBusy)
	}
	for end := time.Now().Add(100 * time.Millisecond); time.Now().Before(end); {
	}
	if err := r.Collect(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	if h := b.Process.HostCPUBusy; h <= 0 || h > 1 {
		t.Errorf("host busy %v after a 100 ms spin, want in (0, 1]", h)
	}
}

// BenchmarkReadHostCPU is what the host's busy share adds to each
// runtime collection: one read of /proc/stat's first line.
func BenchmarkReadHostCPU(b *testing.B) {
	for b.Loop() {
		if _, _, err := readHostCPU(); err != nil {
			b.Fatal(err)
		}
	}
}

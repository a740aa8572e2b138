package recording

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/asyncmon/asyncmon/model"
	"github.com/asyncmon/asyncmon/tui"
)

// writeRecording records n fixture snapshots (and the findings) to a file.
func writeRecording(t *testing.T, name string, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := NewRecorder(f, "127.0.0.1:7071", strings.HasSuffix(name, ".gz"), t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.Write(tui.Update{Findings: fixtureFindings(), HasFindings: true}, t0); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := rec.Write(tui.Update{Snapshots: []*model.Snapshot{fixtureSnapshot(i)}}, t0); err != nil {
			t.Fatal(err)
		}
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// collect replays src to the end, as fast as it goes.
func collect(t *testing.T, src *Replay) (snaps []*model.Snapshot, findings []model.Finding, last tui.Status) {
	t.Helper()
	err := src.Run(context.Background(), func(u tui.Update) {
		snaps = append(snaps, u.Snapshots...)
		if u.HasFindings {
			findings = u.Findings
		}
		if u.Status != nil {
			last = *u.Status
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return snaps, findings, last
}

func TestRecordReplayRoundTrip(t *testing.T) {
	for _, name := range []string{"rec.jsonl", "rec.jsonl.gz"} {
		t.Run(name, func(t *testing.T) {
			path := writeRecording(t, name, 5)
			src, err := Open(path, Options{Speed: 1e6})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			snaps, findings, last := collect(t, src)
			var want []*model.Snapshot
			for i := range 5 {
				want = append(want, fixtureSnapshot(i))
			}
			if diff := cmp.Diff(want, snaps); diff != "" {
				t.Errorf("snapshots differ (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(fixtureFindings(), findings); diff != "" {
				t.Errorf("findings differ (-want +got):\n%s", diff)
			}
			if last.State != tui.StateEnded || last.Note != "" {
				t.Errorf("last status = %+v, want ended without a note", last)
			}
			if !strings.Contains(src.Target(), name+" from 127.0.0.1:7071") {
				t.Errorf("target = %q", src.Target())
			}
		})
	}
}

func TestReplaySkipsUnreadableLines(t *testing.T) {
	path := writeRecording(t, "rec.jsonl", 3)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	// Corrupt the second snapshot and cut the last one in half, as a
	// crash mid-write would.
	lines[3] = "{\"t\": garbage\n"
	lines[4] = lines[4][:len(lines[4])/2]
	if err := os.WriteFile(path, []byte(strings.Join(lines, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := Open(path, Options{Speed: 1e6})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	snaps, findings, last := collect(t, src)
	if len(snaps) != 1 || snaps[0].Seq != 1 || len(findings) != 2 {
		t.Errorf("got %d snapshots and %d findings, want the 1 readable snapshot and 2 findings", len(snaps), len(findings))
	}
	if !strings.Contains(last.Note, "2 unreadable line(s) skipped (line 4:") {
		t.Errorf("note = %q", last.Note)
	}
}

func TestReplayTruncatedGzip(t *testing.T) {
	path := writeRecording(t, "rec.jsonl.gz", 50)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data[:len(data)-30], 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := Open(path, Options{Speed: 1e6})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	snaps, _, last := collect(t, src)
	if len(snaps) < 45 {
		t.Errorf("got %d snapshots from a truncated file, want most of 50", len(snaps))
	}
	if last.State != tui.StateEnded || !strings.Contains(last.Note, "ends abruptly") {
		t.Errorf("last status = %+v", last)
	}
}

func TestOpenErrors(t *testing.T) {
	gz := func(s string) string {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Write([]byte(s))
		w.Close()
		return b.String()
	}
	tests := []struct {
		name    string
		content string
		want    error
		msg     string
	}{
		{name: "empty", content: "", want: ErrNotRecording, msg: "empty"},
		{name: "json but no header", content: `{"seq":1}` + "\n", want: ErrNotRecording, msg: "not a recording header"},
		{name: "text", content: "goroutine 1 [running]:\n", want: ErrNotRecording},
		{name: "future", content: `{"asyncmon_recording":2}` + "\n", want: ErrFutureRecording, msg: "version 2, this asyncmon reads up to version 1; upgrade"},
		{name: "future gzipped", content: gz(`{"asyncmon_recording":7}` + "\n"), want: ErrFutureRecording},
		{name: "bad gzip", content: "\x1f\x8b garbage", want: ErrNotRecording},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			src, err := Open(path, Options{})
			if err == nil {
				src.Close()
				t.Fatal("no error")
			}
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("got %v, want %v containing %q", err, tt.want, tt.msg)
			}
		})
	}
}

func TestReplayPauseAndStep(t *testing.T) {
	path := writeRecording(t, "rec.jsonl", 3)
	src, err := Open(path, Options{StartPaused: true})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan uint64, 10)
	done := make(chan error)
	go func() {
		done <- src.Run(ctx, func(u tui.Update) {
			for _, s := range u.Snapshots {
				got <- s.Seq
			}
		})
	}()
	expect := func(want uint64) {
		t.Helper()
		select {
		case seq := <-got:
			if seq != want {
				t.Fatalf("got snapshot %d, want %d", seq, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("snapshot %d did not come", want)
		}
	}
	src.Step()
	expect(1)
	src.Step()
	expect(2)
	select {
	case seq := <-got:
		t.Fatalf("snapshot %d played while paused", seq)
	default:
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestReplayKeepsUnavailableViews(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := NewRecorder(f, "pprof-target:6060", false, t0)
	if err != nil {
		t.Fatal(err)
	}
	un := map[tui.View]string{tui.ViewConnections: "pprof only: no connections"}
	for i := range 3 {
		// The same status on every update is written once.
		rec.Write(tui.Update{Snapshots: []*model.Snapshot{fixtureSnapshot(i)}, Status: &tui.Status{State: tui.StateLive, Mode: "pprof only", Unavailable: un}}, t0)
	}
	rec.Close()
	f.Close()
	data, _ := os.ReadFile(path)
	if n := strings.Count(string(data), `"unavailable"`); n != 1 {
		t.Errorf("unavailable written %d times, want once", n)
	}
	src, err := Open(path, Options{Speed: 1e6})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	_, _, last := collect(t, src)
	if last.Unavailable[tui.ViewConnections] != "pprof only: no connections" || last.Mode != "replay" {
		t.Errorf("replayed status %+v, want the recorded unavailable views", last)
	}
}

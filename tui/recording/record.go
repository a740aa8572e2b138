package recording

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/model"
	"github.com/asyncmon/asyncmon/tui"
)

// Version is the version of the recording format this package writes and
// the newest it reads (see the package documentation).
const Version = 1

// recordingHeader is the first line of a recording.
type recordingHeader struct {
	Version *int      `json:"asyncmon_recording"`
	Target  string    `json:"target,omitempty"`
	Started time.Time `json:"started"`
}

// record is one line after the header.
type record struct {
	T        time.Time        `json:"t"`
	Snapshot *model.Snapshot  `json:"snapshot,omitempty"`
	Findings *[]model.Finding `json:"findings,omitempty"`
	// Unavailable records which views the recorded source could not
	// feed (by lower-case view name), so a replay says so too instead of
	// showing zeros.
	Unavailable *map[string]string `json:"unavailable,omitempty"`
}

// Recorder writes a recording. Its methods are safe for concurrent use.
type Recorder struct {
	mu  sync.Mutex // guards everything below
	bw  *bufio.Writer
	gz  *gzip.Writer // nil when not compressing
	enc *json.Encoder
	err error
	// unavailable is the last Unavailable written.
	unavailable map[string]string
}

// NewRecorder starts a recording on w, gzipped when compress is true, and
// writes its header. The caller closes w after Close.
func NewRecorder(w io.Writer, target string, compress bool, now time.Time) (*Recorder, error) {
	r := &Recorder{}
	if compress {
		r.gz = gzip.NewWriter(w)
		w = r.gz
	}
	r.bw = bufio.NewWriterSize(w, 64<<10)
	r.enc = json.NewEncoder(r.bw)
	v := Version
	if err := r.enc.Encode(recordingHeader{Version: &v, Target: target, Started: now.UTC()}); err != nil {
		return nil, fmt.Errorf("write recording header: %w", err)
	}
	if err := r.flush(); err != nil {
		return nil, err
	}
	return r, nil
}

// Write appends the snapshots and findings of u, then flushes, so a
// recording cut short by a crash loses at most the record being written.
func (r *Recorder) Write(u tui.Update, now time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	for _, s := range u.Snapshots {
		if err := r.enc.Encode(record{T: now.UTC(), Snapshot: s}); err != nil {
			r.err = fmt.Errorf("write recording: %w", err)
			return r.err
		}
	}
	if u.Status != nil {
		un := make(map[string]string, len(u.Status.Unavailable))
		for v, why := range u.Status.Unavailable {
			un[strings.ToLower(v.String())] = why
		}
		if !maps.Equal(un, r.unavailable) {
			r.unavailable = un
			if err := r.enc.Encode(record{T: now.UTC(), Unavailable: &un}); err != nil {
				r.err = fmt.Errorf("write recording: %w", err)
				return r.err
			}
		}
	}
	if u.HasFindings {
		fs := u.Findings
		if fs == nil {
			fs = []model.Finding{}
		}
		if err := r.enc.Encode(record{T: now.UTC(), Findings: &fs}); err != nil {
			r.err = fmt.Errorf("write recording: %w", err)
			return r.err
		}
	}
	r.err = r.flush()
	return r.err
}

func (r *Recorder) flush() error {
	if err := r.bw.Flush(); err != nil {
		return fmt.Errorf("write recording: %w", err)
	}
	if r.gz != nil {
		if err := r.gz.Flush(); err != nil {
			return fmt.Errorf("write recording: %w", err)
		}
	}
	return nil
}

// Close ends the recording (the gzip trailer, if compressing). It does not
// close the underlying writer.
func (r *Recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.flush(); err != nil && r.err == nil {
		r.err = err
	}
	if r.gz != nil {
		if err := r.gz.Close(); err != nil && r.err == nil {
			r.err = fmt.Errorf("write recording: %w", err)
		}
		r.gz = nil
	}
	return r.err
}

// Tee returns a source that passes everything src delivers through
// to the UI and writes it to rec. A write failure does not stop the UI: it
// shows in the status line and recording stops.
func Tee(src tui.Source, rec *Recorder) tui.Source {
	return &recordingSource{src: src, rec: rec}
}

type recordingSource struct {
	src tui.Source
	rec *Recorder
}

func (s *recordingSource) Target() string { return s.src.Target() }

func (s *recordingSource) Run(ctx context.Context, emit func(tui.Update)) error {
	var last tui.Status // the status last passed on, to annotate
	failed := ""
	return s.src.Run(ctx, func(u tui.Update) {
		if u.Status != nil {
			last = *u.Status
		}
		if failed == "" {
			if err := s.rec.Write(u, time.Now()); err != nil {
				failed = "recording stopped: " + err.Error()
				if u.Status == nil {
					st := last
					u.Status = &st
				}
			}
		}
		if u.Status != nil {
			st := *u.Status
			note := "● recording"
			if failed != "" {
				note = failed
			}
			st.Note = strings.TrimSpace(st.Note + "  " + note)
			u.Status = &st
		}
		emit(u)
	})
}

// SaveCapture passes through to the wrapped source when it can save.
func (s *recordingSource) SaveCapture(ctx context.Context, id, dir string) (string, error) {
	if cs, ok := s.src.(tui.CaptureSaver); ok {
		return cs.SaveCapture(ctx, id, dir)
	}
	return "", fmt.Errorf("this source cannot download captures")
}

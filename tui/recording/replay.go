package recording

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/model"
	"github.com/asyncmon/asyncmon/tui"
)

// ErrNotRecording is returned (wrapped) by [Open] for a file that is
// not an asyncmon recording, and ErrFutureRecording for one written by a
// newer asyncmon in a format this one cannot read.
var (
	ErrNotRecording    = errors.New("not an asyncmon recording")
	ErrFutureRecording = errors.New("recording format is newer than this asyncmon reads")
)

// maxReplayGap caps the pause between two replayed snapshots: a recording
// that spans a long disconnect or a suspended laptop should not stall.
const maxReplayGap = 2 * time.Second

// Options configure [Open].
type Options struct {
	// Speed multiplies the recorded pace. Optional. Default 1; values
	// above 1000 play as fast as the UI takes them.
	Speed float64
	// StartPaused starts playback paused (space resumes, n steps).
	// Optional. Default false.
	StartPaused bool
}

// Replay is a [tui.Source] and [tui.Player] over a recording file. It reads
// the file as it plays, so memory stays flat however long the recording.
type Replay struct {
	path   string
	opts   Options
	f      *os.File
	r      *bufio.Reader
	header recordingHeader

	mu     sync.Mutex // guards paused and steps
	paused bool
	steps  int
	wake   chan struct{} // a pause change or a step, buffered 1
}

// Open opens and validates a recording: its header must be a
// supported version. Close releases the file.
func Open(path string, opts Options) (*Replay, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	s := &Replay{path: path, opts: opts, f: f, wake: make(chan struct{}, 1), paused: opts.StartPaused}
	if s.opts.Speed <= 0 {
		s.opts.Speed = 1
	}
	if err := s.readHeader(); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

func (s *Replay) readHeader() error {
	br := bufio.NewReaderSize(s.f, 256<<10)
	var r io.Reader = br
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("%w: bad gzip stream: %v", ErrNotRecording, err)
		}
		r = gz
	}
	s.r = bufio.NewReaderSize(r, 256<<10)
	line, err := s.r.ReadBytes('\n')
	if len(bytes.TrimSpace(line)) == 0 {
		if err == nil || err == io.EOF {
			return fmt.Errorf("%w: the file is empty", ErrNotRecording)
		}
		return fmt.Errorf("%w: %v", ErrNotRecording, err)
	}
	if err := json.Unmarshal(line, &s.header); err != nil || s.header.Version == nil {
		return fmt.Errorf("%w: the first line is not a recording header (%.40q)", ErrNotRecording, line)
	}
	if v := *s.header.Version; v > Version {
		return fmt.Errorf("%w: it is version %d, this asyncmon reads up to version %d; upgrade asyncmon", ErrFutureRecording, v, Version)
	} else if v < 1 {
		return fmt.Errorf("%w: bad version %d", ErrNotRecording, v)
	}
	return nil
}

// Close releases the file.
func (s *Replay) Close() error { return s.f.Close() }

// Target implements [tui.Source].
func (s *Replay) Target() string {
	if s.header.Target != "" {
		return filepath.Base(s.path) + " from " + s.header.Target
	}
	return filepath.Base(s.path)
}

// SetPaused implements [tui.Player].
func (s *Replay) SetPaused(p bool) {
	s.mu.Lock()
	s.paused = p
	s.mu.Unlock()
	s.signal()
}

// Paused implements [tui.Player].
func (s *Replay) Paused() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.paused
}

// Step implements [tui.Player].
func (s *Replay) Step() {
	s.mu.Lock()
	s.steps++
	s.mu.Unlock()
	s.signal()
}

func (s *Replay) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// wait waits d of playback time: it stops the clock while paused and ends
// early for a step. It returns false when ctx is done.
func (s *Replay) wait(ctx context.Context, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		s.mu.Lock()
		if s.steps > 0 {
			s.steps--
			s.mu.Unlock()
			return true
		}
		paused := s.paused
		s.mu.Unlock()
		if paused {
			rest := time.Until(deadline)
			select {
			case <-ctx.Done():
				return false
			case <-s.wake:
				deadline = time.Now().Add(rest)
				continue
			}
		}
		rest := time.Until(deadline)
		if rest <= 0 {
			return ctx.Err() == nil
		}
		t := time.NewTimer(rest)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-s.wake:
			t.Stop()
		case <-t.C:
			return true
		}
	}
}

// Run implements [tui.Source]: it plays the recording at its recorded pace
// and returns nil at its end or when ctx is done. Unreadable lines are
// skipped and counted in the status line; nothing readable is lost.
func (s *Replay) Run(ctx context.Context, emit func(tui.Update)) error {
	status := tui.Status{State: tui.StateLive, Mode: "replay"}
	emit(tui.Update{Status: &status})
	var (
		lineNo   = 1
		skipped  int
		firstBad string
		prev     time.Time
		ended    string
	)
	for ctx.Err() == nil {
		line, err := s.r.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			lineNo++
			var rec record
			if jerr := json.Unmarshal(line, &rec); jerr != nil {
				skipped++
				if firstBad == "" {
					firstBad = fmt.Sprintf("line %d: %v", lineNo, jerr)
				}
				st := status
				st.Note = skippedNote(skipped, firstBad)
				emit(tui.Update{Status: &st})
			} else {
				var up tui.Update
				if rec.Snapshot != nil {
					if !prev.IsZero() && s.opts.Speed <= 1000 {
						gap := min(max(rec.Snapshot.Time.Sub(prev), 0), maxReplayGap)
						if !s.wait(ctx, time.Duration(float64(gap)/s.opts.Speed)) {
							return nil
						}
					} else if !s.wait(ctx, 0) {
						return nil
					}
					prev = rec.Snapshot.Time
					up.Snapshots = []*model.Snapshot{rec.Snapshot}
				}
				if rec.Findings != nil {
					up.Findings, up.HasFindings = *rec.Findings, true
				}
				if rec.Unavailable != nil {
					status.Unavailable = viewsByName(*rec.Unavailable)
					st := status
					up.Status = &st
				}
				if up.Snapshots != nil || up.HasFindings || up.Status != nil {
					emit(up)
				}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			ended = "the recording ends abruptly (" + err.Error() + ")"
			break
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	status.State = tui.StateEnded
	status.Note = skippedNote(skipped, firstBad)
	if ended != "" {
		status.Note += "  " + ended
	}
	emit(tui.Update{Status: &status})
	return nil
}

func skippedNote(n int, first string) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d unreadable line(s) skipped (%s)", n, first)
}

// viewsByName maps recorded lower-case view names back to views; unknown
// names are dropped.
func viewsByName(m map[string]string) map[tui.View]string {
	out := make(map[tui.View]string, len(m))
	for v := tui.View(0); v.String() != "?"; v++ {
		if why, ok := m[strings.ToLower(v.String())]; ok {
			out[v] = why
		}
	}
	return out
}

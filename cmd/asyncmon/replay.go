package main

import (
	"context"
	"errors"
	"io"

	"github.com/asyncmon/asyncmon/tui/recording"
)

func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("replay", "[flags] FILE",
		"Plays a recording made with 'asyncmon attach --record FILE' in the terminal UI.\n"+
			"Space pauses and resumes, n steps one snapshot while paused.", stderr)
	speed := fs.Float64("speed", 1, "play `X` times faster than recorded")
	paused := fs.Bool("paused", false, "start paused (n steps, space plays)")
	logFile := fs.String("log", "", "write asyncmon's own logs to `FILE`")
	pos, err := parseFlags(fs, args, 1)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{errors.New("replay needs the recording FILE")}
	}
	if *speed <= 0 {
		return usageError{errors.New("--speed must be positive")}
	}
	// Validate before taking the terminal, so a bad file is a plain error.
	src, err := recording.Open(pos[0], recording.Options{Speed: *speed, StartPaused: *paused})
	if err != nil {
		return err
	}
	defer src.Close()
	if !onTerminal(stdout) {
		return errNoTerminal
	}
	log, closeLog, err := uiLogger(*logFile)
	if err != nil {
		return err
	}
	defer closeLog()
	return runUI(ctx, src, src.Target(), log)
}

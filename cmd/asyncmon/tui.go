package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/asyncmon/asyncmon/agent/client"
	"github.com/asyncmon/asyncmon/tui"
	"github.com/asyncmon/asyncmon/tui/clientsource"
)

// errNoTerminal is returned by the UI commands when stdout is not a
// terminal.
var errNoTerminal = errors.New("the terminal UI needs a terminal (stdin and stdout); use 'asyncmon snapshot' in scripts")

// onTerminal reports whether stdin and stdout are terminals: the
// condition for opening the UI.
func onTerminal(stdout io.Writer) bool {
	f, ok := stdout.(*os.File)
	return ok && isCharDevice(f) && isCharDevice(os.Stdin)
}

func isCharDevice(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// uiLogger returns the logger to use while the UI owns the terminal:
// logs go to path (created 0600, appended), or nowhere for "". The UI
// never shares the terminal with logs.
func uiLogger(path string) (*slog.Logger, func(), error) {
	if path == "" {
		return slog.New(slog.DiscardHandler), func() {}, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("log file: %w", err)
	}
	return slog.New(slog.NewTextHandler(f, nil)), func() { f.Close() }, nil
}

// defaultUILog is where the demo logs while its UI is open.
func defaultUILog(name string) string {
	return filepath.Join(os.TempDir(), fmt.Sprintf("asyncmon-%s-%d.log", name, os.Getpid()))
}

// runUI opens the terminal UI on src until the user quits or ctx ends.
func runUI(ctx context.Context, src tui.Source, title string, log *slog.Logger) error {
	return tui.Run(ctx, tui.Options{Source: src, Title: title, Logger: log})
}

// demoUILogger sends the demo's logs to a file in the temporary
// directory while its UI is open.
func demoUILogger() (*slog.Logger, func(), error) {
	return uiLogger(defaultUILog("demo"))
}

// attachDemo opens the UI on the demo's own agent: the first thing a new
// user sees.
func attachDemo(ctx context.Context, agentAddr, token, scenario string, log *slog.Logger) error {
	c, err := client.New(agentAddr, client.WithToken(token))
	if err != nil {
		return err
	}
	return runUI(ctx, clientsource.New(c), "asyncmon demo ("+scenario+") "+agentAddr, log)
}

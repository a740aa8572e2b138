package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/asyncmon/asyncmon/agent/client"
	"github.com/asyncmon/asyncmon/internal/report"
	"github.com/asyncmon/asyncmon/tui/chooser"
	"github.com/asyncmon/asyncmon/tui/clientsource"
	"github.com/asyncmon/asyncmon/tui/recording"
)

func runAttach(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("attach", "[flags] [ADDR|PID]",
		"Opens the live terminal UI on an asyncmon agent: ADDR (host:port, unix:/path or URL), the PID of a\n"+
			"local process with an agent, or, with no argument, the only local agent.\n"+
			"A target that serves only net/http/pprof shows what pprof can feed.", stderr)
	record := fs.String("record", "", "also stream everything shown to `FILE` (gzipped if it ends in .gz), for 'asyncmon replay'")
	logFile := fs.String("log", "", "write asyncmon's own logs to `FILE`; by default they are dropped, never printed over the UI")
	creds := addCredFlags(fs)
	pos, err := parseFlags(fs, args, 1)
	if err != nil {
		return err
	}
	target := ""
	if len(pos) == 1 {
		target = pos[0]
	}
	if !onTerminal(stdout) {
		return errNoTerminal
	}
	opts, err := creds.options()
	if err != nil {
		return err
	}
	addr, err := resolveTarget(ctx, target, chooseAgent)
	if err != nil {
		return err
	}
	c, err := client.New(addr, opts...)
	if err != nil {
		return usageError{err}
	}
	log, closeLog, err := uiLogger(*logFile)
	if err != nil {
		return err
	}
	defer closeLog()
	src, err := clientsource.Open(ctx, c)
	if err != nil {
		return err
	}
	if *record != "" {
		f, err := os.OpenFile(*record, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("record: %w", err)
		}
		rec, err := recording.NewRecorder(f, src.Target(), strings.HasSuffix(*record, ".gz"), time.Now())
		if err != nil {
			f.Close()
			return err
		}
		src = recording.Tee(src, rec)
		defer func() {
			rec.Close()
			f.Close()
		}()
	}
	return runUI(ctx, src, src.Target(), log)
}

// resolveTarget is client.Resolve, with several agents and no chooser
// made a usage error that lists them.
func resolveTarget(ctx context.Context, target string, choose func(context.Context, []client.LocalAgent) (int, error)) (string, error) {
	addr, err := client.Resolve(ctx, target, choose)
	var several *client.SeveralAgentsError
	if errors.As(err, &several) {
		var b strings.Builder
		b.WriteString("several local agents are running; pass one's PID or ADDR:\n")
		report.Agents(&b, several.Agents)
		return "", usageError{errors.New(strings.TrimRight(b.String(), "\n"))}
	}
	return addr, err
}

// chooseAgent asks on the terminal which of several agents to attach to.
func chooseAgent(ctx context.Context, agents []client.LocalAgent) (int, error) {
	var b strings.Builder
	report.Agents(&b, agents)
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	i, err := chooser.Choose(ctx, chooser.Options{Title: "attach to which agent?", Header: lines[0], Items: lines[1:]})
	if errors.Is(err, chooser.ErrNoChoice) {
		return 0, errors.New("no agent chosen")
	}
	return i, err
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/asyncmon/asyncmon/agent/client"
	"github.com/asyncmon/asyncmon/tui"
	"github.com/asyncmon/asyncmon/tui/recording"
)

// probeTimeout bounds the first contact with a target, which decides
// between an agent and a plain net/http/pprof endpoint.
const probeTimeout = 3 * time.Second

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
	src, err := openSource(ctx, c)
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

// resolveTarget turns the attach argument into an address: an address
// stays as it is, a PID is looked up in the local registry, and nothing
// means the only healthy local agent, or the one choose picks among
// several (an error when choose is nil).
func resolveTarget(ctx context.Context, target string, choose func(context.Context, []client.LocalAgent) (int, error)) (string, error) {
	pid, isPID := 0, false
	if n, err := strconv.Atoi(target); err == nil && n > 0 {
		pid, isPID = n, true
	}
	if target != "" && !isPID {
		return target, nil
	}
	agents, err := client.Discover(ctx)
	if err != nil {
		return "", err
	}
	if isPID {
		for _, a := range agents {
			if a.PID == pid {
				return a.Addr, nil
			}
		}
		return "", fmt.Errorf("no agent registered for pid %d (asyncmon ls lists the local agents; a process in another container or user is not listed: pass its ADDR)", pid)
	}
	var healthy []client.LocalAgent
	for _, a := range agents {
		if a.Err == "" {
			healthy = append(healthy, a)
		}
	}
	switch len(healthy) {
	case 0:
		return "", errors.New("no local agent is running (asyncmon ls lists them); pass ADDR or PID")
	case 1:
		return healthy[0].Addr, nil
	}
	if choose != nil {
		i, err := choose(ctx, healthy)
		if err != nil {
			return "", err
		}
		return healthy[i].Addr, nil
	}
	var b strings.Builder
	b.WriteString("several local agents are running; pass one's PID or ADDR:\n")
	writeAgents(&b, healthy)
	return "", usageError{errors.New(strings.TrimRight(b.String(), "\n"))}
}

// openSource decides what the target is: an asyncmon agent (it answers
// /healthz), or a service that serves only net/http/pprof. A target that
// does not answer at all is treated as an agent that is down: the UI says
// "disconnected — retrying" and attaches once it is up.
func openSource(ctx context.Context, c *client.Client) (tui.Source, error) {
	pctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	err := c.Health(pctx)
	var apiErr *client.APIError
	if err == nil || !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound {
		return tui.NewClientSource(c), nil
	}
	if _, perr := c.Download(pctx, pprofGoroutines, io.Discard); perr != nil {
		return nil, fmt.Errorf("%s is neither an asyncmon agent (/healthz: %v) nor a net/http/pprof endpoint (%v)", c.BaseURL(), err, perr)
	}
	return newPprofSource(c), nil
}

// chooseAgent asks on the terminal which of several agents to attach to.
func chooseAgent(ctx context.Context, agents []client.LocalAgent) (int, error) {
	var b strings.Builder
	writeAgents(&b, agents)
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	i, err := tui.Choose(ctx, tui.ChooseOptions{Title: "attach to which agent?", Header: lines[0], Items: lines[1:]})
	if errors.Is(err, tui.ErrNoChoice) {
		return 0, errors.New("no agent chosen")
	}
	return i, err
}

// writeAgents prints a table of local agents.
func writeAgents(w io.Writer, agents []client.LocalAgent) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PID\tADDRESS\tPROGRAM\tSTARTED\tSTATUS")
	for _, a := range agents {
		status := "ok"
		if a.Err != "" {
			status = "not answering: " + a.Err
		}
		started := ""
		if !a.Started.IsZero() {
			started = a.Started.Local().Format("2006-01-02 15:04:05")
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", a.PID, a.Addr, a.Program, started, status)
	}
	tw.Flush()
}

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/asyncmon/asyncmon/agent"
	"github.com/asyncmon/asyncmon/agent/client"
	"github.com/asyncmon/asyncmon/demo"
)

// summaryEvery is how often the headless demo logs a one-line summary.
const summaryEvery = 10 * time.Second

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", "[flags]",
		"Runs a small HTTP service with the asyncmon agent embedded and a load generator,\n"+
			"optionally with injected faults. Serves until interrupted.", stderr)
	addr := fs.String("addr", demo.DefaultAddr, "the demo service's listen address, as `HOST:PORT`")
	agentAddr := fs.String("agent-addr", agent.DefaultAddr, "the agent API's listen address, `HOST:PORT` or unix:PATH; beyond loopback it needs a token")
	tokenFile := fs.String("token-file", "", "require the token in `FILE` on the agent's API (default: the "+tokenEnv+" environment variable, if set)")
	scenario := fs.String("scenario", "healthy", "faults to inject: "+strings.Join(demo.ScenarioNames(), ", ")+" (comma-separated for several)")
	noTUI := fs.Bool("no-tui", false, "do not open the terminal UI; log a summary every 10s instead")
	_, err := parseFlags(fs, args, 0)
	if err != nil {
		return err
	}
	if _, err := demo.ParseScenario(*scenario); err != nil {
		return usageError{err}
	}
	token, err := client.ReadToken(*tokenFile)
	if err != nil {
		return usageError{err}
	}

	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	useTUI := !*noTUI && onTerminal(stdout)
	if useTUI { // logs go to a file while the UI owns the terminal
		var closeLog func()
		if log, closeLog, err = demoUILogger(); err != nil {
			return err
		}
		defer closeLog()
	}
	d, err := demo.Start(ctx, demo.Options{Addr: *addr, AgentAddr: *agentAddr, Scenario: *scenario, Logger: log,
		Agent: agent.Options{Token: token}})
	if err != nil {
		return err
	}
	defer d.Close()
	if useTUI {
		return attachDemo(ctx, d.Agent().Addr(), token, *scenario, log)
	}
	auth := ""
	if token != "" {
		auth = ", token required"
	}
	fmt.Fprintf(stdout, "asyncmon demo: service on http://%s, agent on %s (scenario %s%s)\n", d.Addr(), d.Agent().Addr(), *scenario, auth)
	fmt.Fprintf(stdout, "  try: asyncmon snapshot %s\n", d.Agent().Addr())
	d.LogSummaries(ctx, log, summaryEvery)
	return nil
}

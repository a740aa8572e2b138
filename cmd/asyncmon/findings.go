package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"time"

	"github.com/asyncmon/asyncmon/agent"
	"github.com/asyncmon/asyncmon/agent/client"
	"github.com/asyncmon/asyncmon/internal/report"
	"github.com/asyncmon/asyncmon/model"
)

// errFiring makes "asyncmon findings" exit with status 3: a warning or
// critical finding is firing, so scripts can tell trouble from failure.
var errFiring = errors.New("a warning or critical finding is firing")

func runFindings(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("findings", "[ADDR|PID] [--json] [--state STATE] [--detector NAME]",
		"Prints the findings of the agent at ADDR or of process PID (default: the only local agent, else "+agent.DefaultAddr+"): what is wrong,\n"+
			"where, since when and what to do, with the evidence captured.\n"+
			"Exit status 0 with nothing firing, 3 when a warning or critical finding is firing.", stderr)
	asJSON := fs.Bool("json", false, "print the findings as JSON")
	creds := addCredFlags(fs)
	state := fs.String("state", "", "only findings in `STATE`: firing, pending, resolved or active")
	detector := fs.String("detector", "", "only findings of detector `NAME`")
	pos, err := parseFlags(fs, args, 1)
	if err != nil {
		return err
	}
	c, err := clientFor(ctx, pos, creds)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	found, err := c.Findings(ctx, client.FindingsFilter{State: *state, Detector: *detector})
	if err != nil {
		var ae *client.APIError
		if errors.As(err, &ae) && ae.StatusCode == 400 {
			return usageError{err}
		}
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(found); err != nil {
			return err
		}
	} else if err := report.Findings(stdout, found, c.BaseURL()); err != nil {
		return err
	}
	for _, f := range found {
		if f.State == model.StateFiring && f.Level.Rank() >= model.LevelWarning.Rank() {
			return errFiring
		}
	}
	return nil
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/asyncmon/asyncmon/agent"
	"github.com/asyncmon/asyncmon/agent/client"
	"github.com/asyncmon/asyncmon/internal/report"
)

func runSnapshot(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("snapshot", "[ADDR|PID] [--json]",
		"Prints the latest snapshot of the agent at ADDR (host:port, unix:/path or URL) or of process PID\n(default: the only local agent, else "+agent.DefaultAddr+"). The token comes from "+tokenEnv+" or --token-file.", stderr)
	asJSON := fs.Bool("json", false, "print the snapshot as JSON")
	creds := addCredFlags(fs)
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
	s, err := c.Snapshot(ctx)
	if err != nil {
		return hintNoAgent(err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	return report.Snapshot(stdout, s)
}

// hintNoAgent adds a hint to a 404 from the snapshot endpoint: the target
// answers HTTP but is not an asyncmon agent, for example a service that
// serves only net/http/pprof.
func hintNoAgent(err error) error {
	var apiErr *client.APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound {
		return fmt.Errorf("%w\n(no asyncmon agent there; for a service that serves only net/http/pprof, use 'asyncmon attach ADDR' or 'asyncmon analyze http://ADDR')", err)
	}
	return err
}

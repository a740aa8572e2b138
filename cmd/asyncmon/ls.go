package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/asyncmon/asyncmon/agent/client"
	"github.com/asyncmon/asyncmon/internal/report"
)

func runLs(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("ls", "[flags]",
		"Lists the asyncmon agents running on this machine under this user (pid, address,\n"+
			"program), read from the per-user registry "+client.RegistryDir()+".\n"+
			"Entries of processes that are gone are removed.", stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	agents, err := client.Discover(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		if agents == nil {
			agents = []client.LocalAgent{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(agents)
	}
	if len(agents) == 0 {
		fmt.Fprintln(stdout, "no local agents")
		return nil
	}
	report.Agents(stdout, agents)
	return nil
}

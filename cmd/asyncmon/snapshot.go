package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/asyncmon/asyncmon/agent"
	"github.com/asyncmon/asyncmon/agent/client"
	"github.com/asyncmon/asyncmon/model"
)

func runSnapshot(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("snapshot", "[ADDR|PID] [--json]",
		"Prints the latest snapshot of the agent at ADDR or of process PID (default: the only local agent, else "+agent.DefaultAddr+").", stderr)
	asJSON := fs.Bool("json", false, "print the snapshot as JSON")
	pos, err := parseFlags(fs, args, 1)
	if err != nil {
		return err
	}
	c, err := clientFor(ctx, pos)
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
	return printSnapshot(stdout, s)
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

// printSnapshot writes a readable summary of s.
func printSnapshot(w io.Writer, s *model.Snapshot) error {
	p, sc, g := s.Process, s.Scheduler, s.Goroutines
	fmt.Fprintf(w, "%s (pid %d, %s) at %s, collection #%d\n\n",
		p.Program, p.PID, p.GoVersion, s.Time.Format(time.DateTime), s.Seq)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "scheduler latency\tp50 %s\tp90 %s\tp99 %s\tmax %s\t(%d events)\n",
		model.FormatSeconds(sc.LatencyP50), model.FormatSeconds(sc.LatencyP90), model.FormatSeconds(sc.LatencyP99), model.FormatSeconds(sc.LatencyMax), sc.LatencyCount)
	if sc.ProbePeriod > 0 {
		fmt.Fprintf(tw, "timer probe lag\tp50 %s\tp99 %s\tmax %s\t\t(%d wakes every %s)\n",
			model.FormatSeconds(sc.ProbeLagP50), model.FormatSeconds(sc.ProbeLagP99), model.FormatSeconds(sc.ProbeLagMax), sc.ProbeSamples, model.FormatSeconds(sc.ProbePeriod))
	}
	fmt.Fprintf(tw, "stop-the-world\tmax %s\t%d pauses\t\t\t\n", model.FormatSeconds(sc.PauseMax), sc.PauseCount)
	fmt.Fprintf(tw, "goroutines\t%d total\trunnable %d\trunning %d\twaiting %d\tnot-in-go %d, created %.0f/s\n",
		g.Total, g.Runnable, g.Running, g.Waiting, g.NotInGo, g.CreatedRate)
	fmt.Fprintf(tw, "process\tGOMAXPROCS %d\tthreads %d\tCPU %.2f cores\tfds %d/%d\t\n",
		p.GOMAXPROCS, p.Threads, p.CPUUtilization, p.FDs, p.FDLimit)
	fmt.Fprintf(tw, "gc\tCPU %.1f%%\tassist %.1f%%\theap %s\tgoal %s\t\n",
		100*s.GC.CPUFraction, 100*s.GC.AssistFraction, fmtBytes(s.GC.HeapBytes), fmtBytes(s.GC.GoalBytes))
	if err := tw.Flush(); err != nil {
		return err
	}
	if err := printConnections(w, s.Connections); err != nil {
		return err
	}
	var cols []string
	for _, c := range s.Collectors {
		e := ""
		if c.Err != "" {
			e = " (error: " + c.Err + ")"
		}
		cols = append(cols, fmt.Sprintf("%s %s%s", c.Name, model.FormatSeconds(c.DurationSeconds), e))
	}
	_, err := fmt.Fprintf(w, "\ncollectors: %s\n", strings.Join(cols, ", "))
	return err
}

// fmtBytes prints a byte count in binary units.
func fmtBytes(b uint64) string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%d B", b)
	}
	div, exp := uint64(unit), 0
	for n := b / unit; n >= unit; n /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(b)/float64(div), "KMGTPE"[exp])
}

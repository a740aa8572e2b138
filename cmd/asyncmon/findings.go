package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/asyncmon/asyncmon/agent"
	"github.com/asyncmon/asyncmon/agent/client"
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
	} else if err := printFindings(stdout, found, c.BaseURL()); err != nil {
		return err
	}
	for _, f := range found {
		if f.State == model.StateFiring && f.Level.Rank() >= model.LevelWarning.Rank() {
			return errFiring
		}
	}
	return nil
}

// printFindings writes findings for a person to read.
func printFindings(w io.Writer, fs []model.Finding, base string) error {
	if len(fs) == 0 {
		_, err := fmt.Fprintln(w, "No findings: nothing wrong detected.")
		return err
	}
	for i, f := range fs {
		if i > 0 {
			fmt.Fprintln(w)
		}
		// FirstSeen is when the condition was first seen, before the
		// detector's "for" made it fire: the "since when" that matters.
		since := f.FirstSeen.Local().Format(time.DateTime)
		state := string(f.State)
		if f.State == model.StateResolved {
			state += " at " + f.ResolvedAt.Local().Format(time.DateTime)
		}
		fmt.Fprintf(w, "%s %s [%s] %s\n", levelMark(f.Level), strings.ToUpper(string(f.Level)), f.Detector, f.Title)
		fmt.Fprintf(w, "  %s, first seen %s, subject %s", state, since, f.Subject)
		if f.Cause != "" {
			fmt.Fprintf(w, ", cause %s", f.Cause)
		}
		fmt.Fprintln(w)
		fmt.Fprintf(w, "  %s\n", wrap(f.Summary, 100, "  "))
		for _, n := range f.Evidence.Notes {
			fmt.Fprintf(w, "  - %s\n", wrap(n, 98, "    "))
		}
		for _, s := range f.Evidence.Stacks {
			fmt.Fprintf(w, "  stack: %s\n", s.Label)
			for j, fr := range s.Frames {
				if j == 12 {
					fmt.Fprintf(w, "      ... %d more frames\n", len(s.Frames)-j)
					break
				}
				fmt.Fprintf(w, "      %s\n          %s\n", fr.Func, fr.Site())
			}
		}
		for _, id := range f.Evidence.Captures {
			fmt.Fprintf(w, "  capture: %s/api/v1/captures/%s\n", base, id)
		}
	}
	return nil
}

func levelMark(l model.Level) string {
	switch l {
	case model.LevelCritical:
		return "!!"
	case model.LevelWarning:
		return "! "
	}
	return "  "
}

// wrap breaks s into lines of at most width runes, indenting the
// continuation lines.
func wrap(s string, width int, indent string) string {
	var b strings.Builder
	n := 0
	for i, word := range strings.Fields(s) {
		if i > 0 {
			if n+1+len(word) > width {
				b.WriteString("\n" + indent)
				n = 0
			} else {
				b.WriteByte(' ')
				n++
			}
		}
		b.WriteString(word)
		n += len(word)
	}
	return b.String()
}

// Command asyncmon is the command-line side of asyncmon: it runs the demo,
// attaches the terminal UI to an agent, and prints snapshots and findings.
//
// Usage:
//
//	asyncmon <command> [arguments]
//
// Run "asyncmon help" for the list of commands, and "asyncmon <command> -h"
// for one command's flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/asyncmon/asyncmon/agent"
	"github.com/asyncmon/asyncmon/agent/client"
)

// command is one subcommand. run returns flag.ErrHelp after printing
// usage for -h, and a usageError for bad arguments.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands lists the subcommands, one line each.
func commands() []command {
	return []command{
		{"demo", "run the demo service with the agent embedded", runDemo},
		{"snapshot", "print an agent's latest snapshot", runSnapshot},
		{"capture", "save a profile or trace from an agent or any pprof endpoint", runCapture},
		{"analyze", "group the goroutines of a dump file, stdin or pprof URL", runAnalyze},
		{"findings", "print an agent's findings: what is wrong, where, what to do", runFindings},
		{"attach", "open the live terminal UI on an agent (or a net/http/pprof endpoint)", runAttach},
		{"ls", "list the local agents", runLs},
		{"replay", "play a recording made with attach --record in the terminal UI", runReplay},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches args and returns the exit code: 0 success, 1 failure, 2
// bad usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		var ue usageError
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errFiring):
			return 3
		case client.CredentialHint(err) != "":
			fmt.Fprintf(stderr, "asyncmon %s: %s\n", c.name, client.CredentialHint(err))
			return 1
		case errors.As(err, &ue):
			fmt.Fprintf(stderr, "asyncmon %s: %v\nRun 'asyncmon %s -h' for usage.\n", c.name, err, c.name)
			return 2
		default:
			// Library errors carry "asyncmon: " at their public boundary;
			// the command's own prefix already says it.
			fmt.Fprintf(stderr, "asyncmon %s: %s\n", c.name, strings.TrimPrefix(err.Error(), "asyncmon: "))
			return 1
		}
	}
	fmt.Fprintf(stderr, "asyncmon: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "asyncmon: runtime diagnostics for Go services.\n\nUsage: asyncmon <command> [arguments]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'asyncmon <command> -h' for a command's flags.")
}

// usageError is a bad flag or argument: exit code 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// newFlagSet returns a flag set that prints its usage to stderr and
// returns errors instead of exiting.
func newFlagSet(name, args, summary string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: asyncmon %s %s\n\n%s\n", name, args, summary)
		if hasFlags(fs) {
			fmt.Fprintln(stderr, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// parseFlags parses flags wherever they stand among the arguments (so
// "snapshot ADDR --json" works) and returns the positional arguments,
// at most maxArgs of them.
func parseFlags(fs *flag.FlagSet, args []string, maxArgs int) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err}
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if len(pos) > maxArgs {
		return nil, usageError{fmt.Errorf("too many arguments: %q", pos[maxArgs:])}
	}
	return pos, nil
}

// clientFor returns a client of the agent named by the optional ADDR or
// PID argument, as attach resolves it. With no argument it is the only
// registered local agent or, when none is registered, the default
// address; several registered agents are a usage error that lists them.
func clientFor(ctx context.Context, pos []string, cf *credFlags) (*client.Client, error) {
	opts, err := cf.options()
	if err != nil {
		return nil, err
	}
	target := ""
	if len(pos) == 1 {
		target = pos[0]
	}
	addr, err := resolveTarget(ctx, target, nil)
	if err != nil {
		var ue usageError
		if target != "" || errors.As(err, &ue) {
			return nil, err
		}
		addr = agent.DefaultAddr
	}
	c, err := client.New(addr, opts...)
	if err != nil {
		return nil, usageError{err}
	}
	return c, nil
}

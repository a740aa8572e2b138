package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/asyncmon/asyncmon/agent"
)

// captureKinds maps --kind to the pprof endpoint that serves it. Every one
// is served by net/http/pprof (fgprof's "wall" by the agent), so capture
// works against any Go process that mounts them, agent or not.
var captureKinds = []struct {
	kind, path string
	timed      bool // takes ?seconds=
}{
	{"cpu", "/debug/pprof/profile", true},
	{"wall", "/debug/fgprof", true},
	{"trace", "/debug/pprof/trace", true},
	{"goroutine", "/debug/pprof/goroutine", false},
	{"block", "/debug/pprof/block", true},
	{"mutex", "/debug/pprof/mutex", true},
	{"heap", "/debug/pprof/heap", false},
}

func runCapture(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var kinds []string
	for _, k := range captureKinds {
		kinds = append(kinds, k.kind)
	}
	fs := newFlagSet("capture", "[ADDR|PID] --kind KIND [--seconds N] -o FILE",
		"Saves a profile or trace from the agent (or any Go process serving net/http/pprof)\n"+
			"at ADDR or of process PID (default: the only local agent, else "+agent.DefaultAddr+"). The file is written only once complete.", stderr)
	kind := fs.String("kind", "cpu", "what to capture: "+strings.Join(kinds, ", "))
	seconds := fs.Int("seconds", 10, "duration for cpu, wall, trace, and the delta window of block and mutex (an asyncmon agent allows 1 to 60)")
	out := fs.String("o", "", "output `FILE` (- for standard output)")
	creds := addCredFlags(fs)
	pos, err := parseFlags(fs, args, 1)
	if err != nil {
		return err
	}
	var path string
	timed := false
	for _, k := range captureKinds {
		if k.kind == *kind {
			path, timed = k.path, k.timed
		}
	}
	switch {
	case path == "":
		return usageError{fmt.Errorf("--kind %q: want one of %s", *kind, strings.Join(kinds, ", "))}
	case *out == "":
		return usageError{errors.New("-o FILE is required (- for standard output)")}
	case *seconds < 1 || *seconds > 600:
		return usageError{fmt.Errorf("--seconds %d: want 1 to 600", *seconds)}
	}
	if timed {
		path += "?seconds=" + strconv.Itoa(*seconds)
	}
	c, err := clientFor(ctx, pos, creds)
	if err != nil {
		return err
	}
	wait := time.Duration(*seconds)*time.Second + 30*time.Second
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if *out == "-" {
		_, err := c.Download(ctx, path, stdout)
		return err
	}
	n, err := c.DownloadFile(ctx, path, *out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s (%d bytes, %s)\n", *out, n, *kind)
	return nil
}

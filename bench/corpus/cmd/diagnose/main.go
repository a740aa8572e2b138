// Command diagnose runs asyncmon's diagnosis corpus: it builds the corpus
// programs, runs each in its own process with the agent embedded at its
// defaults, polls the agent's findings every second and prints, per bug
// class and in total, the recall (a firing warning or critical finding
// naming the marked site, and how long it took) and the false alarms.
//
//	cd bench && go run ./corpus/cmd/diagnose [flags]
//
// Flags:
//
//	-short            only the short (CI) subset
//	-run REGEXP       only the programs whose class/name matches
//	-parallel N       programs at once (default 8)
//	-timeout D        how long each program is watched (default 60s)
//	-toolchains LIST  comma-separated GOTOOLCHAIN values, one run each
//	                  (default "local": the go command's own), e.g.
//	                  "local,go1.27.3"
//	-json             print every result as JSON
//	-markdown         print the summary as a Markdown table
//	-load FILE        print a run saved with -json again (with -markdown:
//	                  as a table) instead of running anything
//
// It exits 1 on an error (a program that does not build, start or answer)
// and kills every child it started before it exits, on Ctrl-C too.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus/runner"
)

func main() {
	short := flag.Bool("short", false, "run only the short (CI) subset")
	filter := flag.String("run", "", "run only the programs whose class/name matches this regexp")
	parallel := flag.Int("parallel", 8, "programs run at once")
	timeout := flag.Duration("timeout", 60*time.Second, "how long each program is watched")
	toolchains := flag.String("toolchains", "local", "comma-separated GOTOOLCHAIN values, one run each")
	asJSON := flag.Bool("json", false, "print every result as JSON")
	markdown := flag.Bool("markdown", false, "print the summary as a Markdown table")
	quiet := flag.Bool("q", false, "no progress lines on stderr")
	load := flag.String("load", "", "print a run saved with -json instead of running")
	flag.Parse()
	if *load != "" {
		sets, err := loadSets(*load)
		if err != nil {
			fail(err)
		}
		if *markdown {
			runner.Markdown(os.Stdout, sets)
		} else {
			runner.Text(os.Stdout, sets)
		}
		return
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var re *regexp.Regexp
	if *filter != "" {
		var err error
		if re, err = regexp.Compile(*filter); err != nil {
			fail(fmt.Errorf("-run: %w", err))
		}
	}
	tmp, err := os.MkdirTemp("", "asyncmon-diagnose-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(tmp)

	opts := runner.Options{Parallel: *parallel, Timeout: *timeout}
	if !*quiet {
		opts.Progress = os.Stderr
	}
	var sets []runner.Set
	errs := 0
	for _, tc := range strings.Split(*toolchains, ",") {
		tc = strings.TrimSpace(tc)
		fmt.Fprintf(os.Stderr, "building the corpus (toolchain %s)\n", tc)
		bin, err := runner.Build(ctx, tc, tmp)
		if err != nil {
			fail(err)
		}
		es, err := runner.List(ctx, bin)
		if err != nil {
			fail(err)
		}
		var keep []runner.Entry
		for _, e := range es {
			if (*short && !e.Short) || (re != nil && !re.MatchString(e.Class+"/"+e.Name)) {
				continue
			}
			keep = append(keep, e)
		}
		fmt.Fprintf(os.Stderr, "running %d programs, %d at once, %s each\n", len(keep), opts.Parallel, opts.Timeout)
		res := runner.Run(ctx, bin, keep, opts)
		set := runner.Set{Results: res}
		for _, r := range res {
			if r.GoVersion != "" {
				set.GoVersion = r.GoVersion
			}
			if r.Err != "" {
				errs++
			}
		}
		sets = append(sets, set)
		if ctx.Err() != nil {
			break
		}
	}
	switch {
	case *asJSON:
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(saved{time.Now().UTC(), timeout.String(), runner.Summarize(sets), sets}); err != nil {
			fail(err)
		}
	case *markdown:
		runner.Markdown(os.Stdout, sets)
	default:
		runner.Text(os.Stdout, sets)
	}
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "interrupted: every program was killed; the results above are partial")
		os.Exit(130)
	}
	if errs > 0 {
		os.Exit(1)
	}
}

// saved is what -json prints and -load reads.
type saved struct {
	Date    time.Time    `json:"date"`
	Timeout string       `json:"timeout"`
	Summary []runner.Row `json:"summary"`
	Sets    []runner.Set `json:"sets"`
}

func loadSets(name string) ([]runner.Set, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var s saved
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: not the output of -json: %w", name, err)
	}
	if len(s.Sets) == 0 {
		return nil, fmt.Errorf("%s: no results", name)
	}
	return s.Sets, nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "diagnose:", err)
	os.Exit(1)
}

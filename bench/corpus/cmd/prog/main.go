// Command prog runs one corpus program in this process with the asyncmon
// agent embedded at its defaults (on a free loopback port), so that the
// program's bug really leaks here. The runner (cmd/diagnose) starts it.
//
//	prog -list            the programs, as JSON
//	prog -run NAME        run one; the first line of stdout is
//	                      "asyncmon-agent ADDR GOVERSION"
//
// It runs until SIGINT or SIGTERM.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/asyncmon/asyncmon/agent"
	"github.com/asyncmon/asyncmon/bench/corpus"
)

func main() {
	list := flag.Bool("list", false, "print the programs as JSON and exit")
	name := flag.String("run", "", "the program to run")
	flag.Parse()
	if *list {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(corpus.Programs()); err != nil {
			fail(err)
		}
		return
	}
	p, ok := corpus.Lookup(*name)
	if !ok {
		fail(fmt.Errorf("no program %q (see -list)", *name))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := agent.Start(ctx, agent.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		fail(err)
	}
	fmt.Printf("asyncmon-agent %s %s\n", a.Addr(), runtime.Version())
	go p.Run(ctx)
	<-ctx.Done()
	a.Close()
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "prog:", err)
	os.Exit(2)
}

// Command thirdparty watches a real third-party Go server through its
// net/http/pprof endpoints, as "asyncmon attach" does for a service that
// does not embed the agent, and reports every finding the detectors
// raise. A healthy server must raise no warning or critical finding: its
// idle goroutines (accept loops, tickers, keep-alive readers, workers
// waiting for jobs) are not leaks.
//
//	cd bench && go run ./thirdparty                       # a real Prometheus, 10 minutes
//	cd bench && go run ./thirdparty -server etcd -for 2m   # etcd, caddy or nats
//	cd bench && go run ./thirdparty -target http://127.0.0.1:6060
//
// Without -target it starts the named server's binary from PATH (the
// Debian packages prometheus, etcd-server, caddy and nats-server) on free
// loopback ports, with its pprof endpoints on, and puts a light, steady
// load on it: queries, key writes and watches, proxied requests, or
// published messages with idle subscribers. The exit status is 3 when a
// warning or critical finding fired, 1 on failure, 0 otherwise.
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
	"time"
)

func main() {
	target := flag.String("target", "", "base URL of a server serving /debug/pprof/ (default: start -server)")
	name := flag.String("server", "prometheus", "the server to start: "+strings.Join(serverNames(), ", "))
	dur := flag.Duration("for", 10*time.Minute, "how long to watch")
	every := flag.Duration("every", 5*time.Second, "how often to read the profiles (attach's pprof-only interval)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r, err := run(ctx, config{Target: *target, Server: *name, For: *dur, Every: *every, Log: os.Stderr})
	if err != nil {
		fmt.Fprintln(os.Stderr, "thirdparty:", err)
		os.Exit(1)
	}
	r.write(os.Stdout)
	if len(r.Alarms) > 0 {
		os.Exit(3)
	}
}

// config is one watch.
type config struct {
	Target string        // base URL; "" starts Server
	Server string        // the server to start
	For    time.Duration // how long to watch
	Every  time.Duration // how often to sample
	Log    io.Writer
}

// run watches cfg.Target (or a Prometheus it starts) for cfg.For.
func run(ctx context.Context, cfg config) (*result, error) {
	base := cfg.Target
	var serverName string
	if base == "" {
		p, err := startServer(ctx, cfg.Server, cfg.Log)
		if err != nil {
			return nil, err
		}
		defer p.stop()
		base, serverName = p.pprof, p.name+" ("+p.version+")"
		ctx2, cancel := context.WithCancel(ctx)
		defer cancel()
		done := make(chan struct{})
		go func() { defer close(done); p.load(ctx2) }()
		defer func() { cancel(); <-done }()
	}
	r, err := watch(ctx, base, cfg.For, cfg.Every, cfg.Log)
	if r != nil {
		r.Server = serverName
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return r, err
	}
	return r, nil
}

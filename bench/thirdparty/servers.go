package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// A server is a real third-party Go server started for a watch.
type server struct {
	name    string
	pprof   string // base URL of its net/http/pprof endpoints
	version string
	cmd     *exec.Cmd
	dir     string
	exited  chan struct{}
	// load puts a light, steady load on the server until ctx ends.
	load func(ctx context.Context)
}

// servers are the third-party servers a watch can start, by name.
var servers = map[string]func(dir string) (*server, []string, string, error){
	"prometheus": prometheusServer,
	"etcd":       etcdServer,
	"caddy":      caddyServer,
	"nats":       natsServer,
}

// serverNames lists the servers in order.
func serverNames() []string {
	var names []string
	for n := range servers {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// startServer starts the named server on free loopback ports, with its
// data in a temporary directory, and waits until it is ready.
func startServer(ctx context.Context, name string, log io.Writer) (*server, error) {
	setup, ok := servers[name]
	if !ok {
		return nil, fmt.Errorf("unknown server %q (servers: %s)", name, strings.Join(serverNames(), ", "))
	}
	dir, err := os.MkdirTemp("", "asyncmon-thirdparty-")
	if err != nil {
		return nil, err
	}
	s, args, ready, err := setup(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	bin, err := lookPath(args[0])
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("no %s binary on PATH (apt-get install it; or pass -target): %w", args[0], err)
	}
	s.name, s.dir, s.exited = name, dir, make(chan struct{})
	if out, err := exec.Command(bin, versionFlag(name)).CombinedOutput(); err == nil {
		s.version, _, _ = strings.Cut(strings.TrimSpace(string(out)), "\n")
	}
	s.cmd = exec.Command(bin, args[1:]...)
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = io.Discard, io.Discard
	if err := s.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
	deadline := time.Now().Add(time.Minute)
	for !get(ready) {
		select {
		case <-s.exited:
			os.RemoveAll(dir)
			return nil, fmt.Errorf("%s exited before it was ready", name)
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("%s not ready within a minute", name)
		}
	}
	fmt.Fprintf(log, "started %s (%s), pprof at %s\n", name, s.version, s.pprof)
	return s, nil
}

// lookPath finds a server's binary on PATH or in /usr/sbin, where Debian
// puts some daemons and which a user's PATH may lack.
func lookPath(bin string) (string, error) {
	p, err := exec.LookPath(bin)
	if err != nil {
		if _, serr := os.Stat(filepath.Join("/usr/sbin", bin)); serr == nil {
			return filepath.Join("/usr/sbin", bin), nil
		}
	}
	return p, err
}

func versionFlag(name string) string {
	if name == "caddy" {
		return "version"
	}
	return "--version"
}

// get reports whether GET url answered 200.
func get(url string) bool {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// stop stops the server and removes its data.
func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	os.RemoveAll(s.dir)
}

// freeAddrs returns n free loopback addresses.
func freeAddrs(n int) ([]string, error) {
	var out []string
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().String())
	}
	return out, nil
}

// every calls f every d until ctx ends.
func every(ctx context.Context, d time.Duration, f func(i int)) {
	t := time.NewTicker(d)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		f(i)
	}
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

// prometheusServer scrapes itself every second and evaluates a few
// recording and alerting rules, so that its scrape loop, rule manager,
// TSDB head and notifier all run; dashboards query it.
func prometheusServer(dir string) (*server, []string, string, error) {
	addrs, err := freeAddrs(1)
	if err != nil {
		return nil, nil, "", err
	}
	rules := `groups:
  - name: load
    rules:
      - record: job:go_goroutines:max
        expr: max by (job) (go_goroutines)
      - alert: ManyGoroutines
        expr: go_goroutines > 100000
        for: 1m
`
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [rules.yml]
scrape_configs:
  - job_name: self
    static_configs:
      - targets: [%q]
`, addrs[0])
	if err := errors.Join(os.WriteFile(filepath.Join(dir, "rules.yml"), []byte(rules), 0o600),
		os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(config), 0o600)); err != nil {
		return nil, nil, "", err
	}
	base := "http://" + addrs[0]
	queries := []string{"up", "rate(prometheus_http_requests_total[1m])", "job:go_goroutines:max",
		"histogram_quantile(0.99, rate(prometheus_http_request_duration_seconds_bucket[1m]))"}
	s := &server{pprof: base, load: func(ctx context.Context) {
		every(ctx, 250*time.Millisecond, func(i int) { get(base + "/api/v1/query?query=" + url.QueryEscape(queries[i%len(queries)])) })
	}}
	return s, []string{"prometheus", "--config.file=prometheus.yml", "--storage.tsdb.path=tsdb", "--web.listen-address=" + addrs[0]}, base + "/-/ready", nil
}

// etcdServer is a one-member etcd cluster with pprof on its client URL;
// the load writes and reads keys and holds a few watches open.
func etcdServer(dir string) (*server, []string, string, error) {
	addrs, err := freeAddrs(2)
	if err != nil {
		return nil, nil, "", err
	}
	client, peer := "http://"+addrs[0], "http://"+addrs[1]
	args := []string{"etcd", "--name=asyncmon", "--data-dir=data", "--enable-pprof",
		"--listen-client-urls=" + client, "--advertise-client-urls=" + client,
		"--listen-peer-urls=" + peer, "--initial-advertise-peer-urls=" + peer,
		"--initial-cluster=asyncmon=" + peer, "--logger=zap", "--log-outputs=stderr"}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	post := func(ctx context.Context, path string, body any) {
		b, _ := json.Marshal(body)
		req, err := http.NewRequestWithContext(ctx, "POST", client+path, bytes.NewReader(b))
		if err != nil {
			return
		}
		resp, err := httpClient.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	s := &server{pprof: client, load: func(ctx context.Context) {
		// Three watchers wait for changes under /w/, one of which rarely
		// comes: idle streams, not leaks.
		done := make(chan struct{})
		for range 3 {
			go func() {
				defer func() { done <- struct{}{} }()
				b, _ := json.Marshal(map[string]any{"create_request": map[string]string{"key": b64("/w/"), "range_end": b64("/w0")}})
				req, err := http.NewRequestWithContext(ctx, "POST", client+"/v3/watch", bytes.NewReader(b))
				if err != nil {
					return
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}()
		}
		every(ctx, 100*time.Millisecond, func(i int) {
			key := fmt.Sprintf("/k/%d", i%100)
			post(ctx, "/v3/kv/put", map[string]string{"key": b64(key), "value": b64(fmt.Sprint(i))})
			post(ctx, "/v3/kv/range", map[string]string{"key": b64(key)})
			if i%50 == 0 {
				post(ctx, "/v3/kv/put", map[string]string{"key": b64("/w/x"), "value": b64(fmt.Sprint(i))})
			}
		})
		for range 3 {
			<-done
		}
	}}
	return s, args, client + "/health", nil
}

// caddyServer serves a static response and a reverse proxy to itself,
// with its admin API (and pprof) on a loopback port.
func caddyServer(dir string) (*server, []string, string, error) {
	addrs, err := freeAddrs(2)
	if err != nil {
		return nil, nil, "", err
	}
	admin, web := addrs[0], addrs[1]
	config := fmt.Sprintf(`{
  "admin": {"listen": %q},
  "storage": {"module": "file_system", "root": "data"},
  "apps": {"http": {"servers": {"web": {
    "listen": [%q],
    "automatic_https": {"disable": true},
    "routes": [
      {"match": [{"path": ["/proxy"]}], "handle": [{"handler": "rewrite", "uri": "/"}, {"handler": "reverse_proxy", "upstreams": [{"dial": %q}]}]},
      {"handle": [{"handler": "static_response", "body": "hello from caddy\n"}]}
    ]
  }}}}
}`, admin, web, web)
	if err := os.WriteFile(filepath.Join(dir, "caddy.json"), []byte(config), 0o600); err != nil {
		return nil, nil, "", err
	}
	s := &server{pprof: "http://" + admin, load: func(ctx context.Context) {
		every(ctx, 50*time.Millisecond, func(i int) {
			path := "/"
			if i%2 == 1 {
				path = "/proxy"
			}
			get("http://" + web + path)
		})
	}}
	return s, []string{"caddy", "run", "--config", "caddy.json"}, "http://" + admin + "/config/", nil
}

// natsServer is a NATS server with its profiling port on; the load
// publishes on a subject two subscribers read, and keeps one idle
// subscriber that no message reaches.
func natsServer(dir string) (*server, []string, string, error) {
	addrs, err := freeAddrs(2)
	if err != nil {
		return nil, nil, "", err
	}
	_, port, _ := net.SplitHostPort(addrs[0])
	_, prof, _ := net.SplitHostPort(addrs[1])
	s := &server{pprof: "http://" + addrs[1], load: func(ctx context.Context) {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		dial := func(subs ...string) net.Conn {
			c, err := net.Dial("tcp", addrs[0])
			if err != nil {
				return nil
			}
			conns = append(conns, c)
			fmt.Fprintf(c, "CONNECT {\"verbose\":false,\"pedantic\":false}\r\n")
			for i, sub := range subs {
				fmt.Fprintf(c, "SUB %s %d\r\n", sub, i+1)
			}
			// Drain what the server sends (INFO, MSG, PING): answer PINGs.
			go func() {
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if strings.HasPrefix(line, "PING") {
						fmt.Fprintf(c, "PONG\r\n")
					}
				}
			}()
			return c
		}
		dial("orders")
		dial("orders")
		dial("rarely")
		pub := dial()
		if pub == nil {
			return
		}
		every(ctx, 20*time.Millisecond, func(i int) {
			msg := fmt.Sprintf("order %d", i)
			fmt.Fprintf(pub, "PUB orders %d\r\n%s\r\n", len(msg), msg)
		})
	}}
	return s, []string{"nats-server", "-a", "127.0.0.1", "-p", port, "--profile", prof}, "http://" + addrs[1] + "/debug/pprof/", nil
}

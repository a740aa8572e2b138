package dashboards

import (
	"bufio"
	"context"
	"encoding/json"
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
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/asyncmon/asyncmon/internal/testenv"
)

// The end-to-end test runs the demo with every fault scenario on, a real
// Prometheus scraping it every 2 seconds with the shipped rules (a copy with
// short for: durations), and checks that every dashboard query, every
// rule and every metric they read has data, that every rule evaluates
// cleanly, and that the scenario alerts fire.
const (
	e2eJob = "asyncmon-demo"
	// e2eFor replaces every alert's for: in the test copy of the rules.
	e2eFor = 5 * time.Second
	// e2eRateInterval stands for Grafana's $__rate_interval: at least
	// four scrape intervals (2 s here, with a 2 s timeout: the demo's
	// starvation scenario slows the agent's own answers), with room for a
	// late scrape.
	e2eRateInterval = "10s"
	// e2eDeadline bounds the wait for data and alerts, from the moment
	// Prometheus is ready. The test ends as soon as all have fired,
	// which takes about two minutes on an idle machine: on Go 1.26 the
	// demo's leak is judged by sustained growth, and every scenario runs
	// at once under the race detector, so the agent stretches its
	// interval. The bound leaves room for a loaded machine.
	e2eDeadline = 240 * time.Second
)

// e2eAlerts are the alerts the demo's scenarios must fire.
var e2eAlerts = []string{"AsyncmonSchedulerStarvation", "AsyncmonGoroutineLeak", "AsyncmonConnectionLeak",
	"AsyncmonHandlerPanics", "AsyncmonCallsWithoutDeadline", "AsyncmonRequestsPilingUp"}

func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: starts the demo and Prometheus")
	}
	promBin := testenv.LookPath(t, "prometheus")
	dir := t.TempDir()

	start := time.Now()
	asyncmon := filepath.Join(dir, "asyncmon")
	build := exec.Command("go", "build", "-o", asyncmon, "./cmd/asyncmon")
	build.Dir = ".." // the main module, whose go.mod is one level up
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/asyncmon: %v\n%s", err, out)
	}
	t.Logf("built asyncmon in %v", time.Since(start).Round(time.Millisecond))

	agentAddr := freeAddr(t)
	startProcess(t, dir, "demo", asyncmon, "demo", "--no-tui", "--scenario", "all",
		"--addr", freeAddr(t), "--agent-addr", agentAddr)
	waitHTTP(t, "http://"+agentAddr+"/metrics", 60*time.Second)

	rules := writeTestRules(t, dir)
	promAddr := freeAddr(t)
	config := fmt.Sprintf(`global:
  scrape_interval: 2s
  scrape_timeout: 2s
  evaluation_interval: 1s
rule_files:
  - %s
scrape_configs:
  - job_name: %s
    static_configs:
      - targets: [%q]
`, rules, e2eJob, agentAddr)
	configFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(configFile, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	startProcess(t, dir, "prometheus", promBin,
		"--config.file="+configFile,
		"--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+promAddr)
	prom := &promAPI{base: "http://" + promAddr}
	waitHTTP(t, prom.base+"/-/ready", 30*time.Second)
	ready := time.Now()
	t.Logf("demo and Prometheus up in %v", ready.Sub(start).Round(time.Millisecond))

	queries := e2eQueries(t, agentAddr)
	pending := map[string]e2eQuery{}
	for _, q := range queries {
		pending[q.expr] = q
	}
	fired := map[string]time.Duration{}
	deadline := ready.Add(e2eDeadline)
	for {
		for expr := range pending {
			n, err := prom.count(expr)
			if err != nil {
				t.Errorf("%s: %s: %v", pending[expr].where, expr, err)
				delete(pending, expr)
			} else if n > 0 {
				delete(pending, expr)
			}
		}
		alerts, err := prom.alerts()
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range alerts {
			name := a.Labels["alertname"]
			if a.State != "firing" {
				continue
			}
			if _, ok := fired[name]; !ok {
				fired[name] = time.Since(ready)
				t.Logf("%s firing after %v (active since %v)", name, fired[name].Round(time.Second), a.ActiveAt.Sub(ready).Round(time.Second))
				// Ordering, not latency: an alert fires only once its for:
				// has passed, which shows the test copy of the rules kept
				// it. How much later it fires depends on the machine's load.
				if held := time.Since(a.ActiveAt); held < e2eFor {
					t.Errorf("%s: firing %v after it became active, before its for: of %v", name, held.Round(time.Millisecond), e2eFor)
				}
			}
		}
		allFired := true
		for _, name := range e2eAlerts {
			if _, ok := fired[name]; !ok {
				allFired = false
			}
		}
		if (len(pending) == 0 && allFired) || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second) // poll interval; the loop is bounded by deadline
	}
	t.Logf("waited %v for data and alerts", time.Since(ready).Round(time.Second))

	var empty []string
	var stillEmpty []e2eQuery
	for _, q := range queries {
		if _, ok := pending[q.expr]; ok {
			empty = append(empty, fmt.Sprintf("%s: %s", q.where, q.expr))
			stillEmpty = append(stillEmpty, q)
		}
	}
	slices.Sort(empty)
	if len(empty) > 0 {
		t.Errorf("%d queries returned no data against the demo with every scenario on:\n  %s", len(empty), strings.Join(empty, "\n  "))
	}
	if missing := missingMetrics(t, agentAddr, stillEmpty); len(missing) > 0 {
		t.Errorf("metrics the empty queries read that the demo's /metrics does not export (%d): %s", len(missing), strings.Join(missing, ", "))
	}
	for _, name := range e2eAlerts {
		if _, ok := fired[name]; !ok {
			t.Errorf("%s did not fire within %v", name, e2eDeadline)
		}
	}
	if alerts, err := prom.alerts(); err == nil {
		for _, a := range alerts {
			t.Logf("alert at the end: %s %s %v", a.Labels["alertname"], a.State, a.Labels)
		}
	}
	checkRuleHealth(t, prom)
}

// e2eQuery is one PromQL expression to check, and where it comes from.
type e2eQuery struct {
	where, expr string
	// metrics are the metric names it reads.
	metrics []string
}

// e2eQueries lists every dashboard query (each side of a fallback
// separately), every variable's metric, every rule's selectors and every
// recorded series, with the dashboard variables replaced by the demo's.
func e2eQueries(t *testing.T, agentAddr string) []e2eQuery {
	t.Helper()
	r := strings.NewReplacer(
		"$job", e2eJob,
		"$instance", strings.ReplaceAll(agentAddr, ".", `\\.`),
		"$__rate_interval", e2eRateInterval,
	)
	var out []e2eQuery
	seen := map[string]bool{}
	add := func(where, expr string) {
		sels, err := selectors(expr)
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		q := e2eQuery{where: where, expr: expr}
		for _, s := range sels {
			q.metrics = append(q.metrics, s.Name)
		}
		if !seen[expr] {
			seen[expr] = true
			out = append(out, q)
		}
	}
	for name, d := range loadDashboards(t) {
		for _, v := range d.Templating.List {
			if s, ok := v.Query.(string); ok && strings.HasPrefix(s, "label_values(") {
				metric := strings.TrimSuffix(strings.TrimPrefix(s, "label_values("), ")")
				metric = metric[:strings.LastIndex(metric, ",")]
				add(name+" variable "+v.Name, r.Replace(metric))
			}
		}
		for _, a := range d.Annotations.List {
			add(name+" annotation "+a.Name, r.Replace(a.Expr))
		}
		for _, p := range d.panels() {
			for _, tg := range p.Targets {
				for _, alt := range orOperands(tg.Expr) {
					add(fmt.Sprintf("%s panel %q %s", name, p.Title, tg.RefID), r.Replace(alt))
				}
			}
		}
	}
	for _, rl := range loadRules(t, rulesFile).all() {
		if rl.Record != "" {
			add("recording rule", rl.Record)
			continue
		}
		sels, err := selectors(rl.Expr)
		if err != nil {
			t.Fatalf("%s: %v", rl.Alert, err)
		}
		for _, s := range sels {
			add("alert "+rl.Alert, s.String())
		}
	}
	return out
}

// writeTestRules writes a copy of the shipped rules with every alert's
// for: set to e2eFor, and returns its path.
func writeTestRules(t *testing.T, dir string) string {
	t.Helper()
	f := loadRules(t, rulesFile)
	for gi := range f.Groups {
		for ri := range f.Groups[gi].Rules {
			if f.Groups[gi].Rules[ri].Alert != "" {
				f.Groups[gi].Rules[ri].For = e2eFor.String()
			}
		}
	}
	b, err := yaml.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "rules.yml")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// missingMetrics returns the metric names the queries read that the
// agent's /metrics does not export now (up and recorded series aside): for
// the queries that stayed empty, which metric is to blame.
func missingMetrics(t *testing.T, agentAddr string, queries []e2eQuery) []string {
	t.Helper()
	resp, err := http.Get("http://" + agentAddr + "/metrics")
	if err != nil {
		t.Errorf("GET /metrics: %v", err)
		return nil
	}
	defer resp.Body.Close()
	exported := map[string]bool{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		if i := strings.IndexAny(line, "{ "); i > 0 {
			exported[line[:i]] = true
		}
	}
	var missing []string
	for _, q := range queries {
		for _, m := range q.metrics {
			if m == "" || m == "up" || strings.Contains(m, ":") || exported[m] || slices.Contains(missing, m) {
				continue
			}
			missing = append(missing, m)
		}
	}
	slices.Sort(missing)
	return missing
}

func checkRuleHealth(t *testing.T, prom *promAPI) {
	t.Helper()
	var res struct {
		Groups []struct {
			Name  string `json:"name"`
			Rules []struct {
				Name           string    `json:"name"`
				Health         string    `json:"health"`
				LastError      string    `json:"lastError"`
				LastEvaluation time.Time `json:"lastEvaluation"`
			} `json:"rules"`
		} `json:"groups"`
	}
	if err := prom.get("/api/v1/rules", nil, &res); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range res.Groups {
		for _, r := range g.Rules {
			n++
			if r.Health != "ok" || r.LastError != "" || r.LastEvaluation.IsZero() {
				t.Errorf("rule %s/%s: health %q, last error %q, last evaluation %v", g.Name, r.Name, r.Health, r.LastError, r.LastEvaluation)
			}
		}
	}
	if want := len(loadRules(t, rulesFile).all()); n != want {
		t.Errorf("Prometheus loaded %d rules, the file has %d", n, want)
	}
}

// promAPI is a minimal client of the Prometheus HTTP API.
type promAPI struct{ base string }

func (p *promAPI) get(path string, params url.Values, v any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u := p.base + path
	if params != nil {
		u += "?" + params.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var env struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("%s: %v: %.200s", path, err, body)
	}
	if env.Status != "success" {
		return fmt.Errorf("%s: %s", path, env.Error)
	}
	return json.Unmarshal(env.Data, v)
}

// count evaluates expr now and returns how many series or samples it has.
func (p *promAPI) count(expr string) (int, error) {
	var res struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := p.get("/api/v1/query", url.Values{"query": {expr}}, &res); err != nil {
		return 0, err
	}
	if res.ResultType != "vector" && res.ResultType != "matrix" {
		return 1, nil // scalar or string: always a value
	}
	var rs []json.RawMessage
	if err := json.Unmarshal(res.Result, &rs); err != nil {
		return 0, err
	}
	return len(rs), nil
}

type promAlert struct {
	Labels   map[string]string `json:"labels"`
	State    string            `json:"state"`
	ActiveAt time.Time         `json:"activeAt"`
}

func (p *promAPI) alerts() ([]promAlert, error) {
	var res struct {
		Alerts []promAlert `json:"alerts"`
	}
	err := p.get("/api/v1/alerts", nil, &res)
	return res.Alerts, err
}

// freeAddr returns a loopback address with a port that was free a moment
// ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startProcess runs a program for the rest of the test, its output in
// dir/name.log (printed when the test fails), stopped with SIGTERM (then
// SIGKILL) at cleanup.
func startProcess(t *testing.T, dir, name, bin string, args ...string) {
	t.Helper()
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Stdin = nil
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logFile.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			if len(b) > 4000 {
				b = b[len(b)-4000:]
			}
			t.Logf("%s log (tail):\n%s", name, b)
		}
	})
}

// waitHTTP polls url until it answers 200 or timeout passes.
func waitHTTP(t *testing.T, url string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: 2 * time.Second}
	var last error
	for time.Now().Before(deadline) {
		resp, err := client.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		last = err
		time.Sleep(200 * time.Millisecond) // poll interval, bounded by deadline
	}
	t.Fatalf("%s did not answer within %v: %v", url, timeout, last)
}

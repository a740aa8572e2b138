package demo

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/asyncmon/asyncmon/agent"
)

// Scenario is a fault the demo can inject into the running service.
type Scenario struct {
	// Name is what --scenario takes.
	Name string
	// Description says, in a line, what bug it plays.
	Description string
	// Run installs the fault: it may add handlers to env.Mux, and start
	// goroutines with env.Go and load with env.Load. It must return
	// promptly.
	Run func(env *Env) error
}

// Scenarios lists every fault scenario, one line per scenario file.
func Scenarios() []Scenario {
	return []Scenario{
		starvationScenario(),
		leakScenario(),
		deadlockScenario(),
		connLeakScenario(),
		panicScenario(),
		noTimeoutScenario(),
		overloadScenario(),
		crashScenario(),
	}
}

// ParseScenario resolves a --scenario value: "" or "healthy" is none,
// "all" is every scenario but "crash" (which ends the process),
// otherwise a comma-separated list of names.
func ParseScenario(name string) ([]Scenario, error) {
	all := Scenarios()
	switch name {
	case "", "healthy":
		return nil, nil
	case "all":
		return slices.DeleteFunc(all, func(s Scenario) bool { return s.Name == "crash" }), nil
	}
	var out []Scenario
	for _, n := range strings.Split(name, ",") {
		found := false
		for _, s := range all {
			if s.Name == strings.TrimSpace(n) {
				out = append(out, s)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("demo: unknown scenario %q (known: %s)", n, strings.Join(ScenarioNames(), ", "))
		}
	}
	return out, nil
}

// ScenarioNames lists the accepted --scenario values.
func ScenarioNames() []string {
	names := []string{"healthy"}
	for _, s := range Scenarios() {
		names = append(names, s.Name)
	}
	return append(names, "all")
}

func scenarioNames(scs []Scenario) string {
	if len(scs) == 0 {
		return "healthy"
	}
	var names []string
	for _, s := range scs {
		names = append(names, s.Name)
	}
	return strings.Join(names, ",")
}

// Env is what a scenario gets to work with.
type Env struct {
	// Mux is the service's mux: scenarios add their handlers to it.
	Mux *http.ServeMux
	d   *Demo
}

// Agent is the embedded agent.
func (e *Env) Agent() *agent.Agent { return e.d.agent }

// Logger is the demo's logger.
func (e *Env) Logger() *slog.Logger { return e.d.log }

// Client is the demo's keep-alive HTTP client.
func (e *Env) Client() *http.Client { return e.d.client }

// URL is the service's base URL.
func (e *Env) URL() string { return e.d.URL() }

// Go runs fn on a goroutine the demo owns: ctx is cancelled on Close, and
// Close waits for fn to return.
func (e *Env) Go(fn func(ctx context.Context)) {
	e.d.wg.Go(func() { fn(e.d.ctx) })
}

// Load sends rate requests per second to path (with the query that query
// returns) until the demo stops.
func (e *Env) Load(rate float64, path string, query func() string) {
	e.d.wg.Go(func() { e.d.load(rate, path, query) })
}

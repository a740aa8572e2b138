package client

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/internal/registry"
)

// LocalAgent is an agent found in this user's local registry.
type LocalAgent struct {
	PID     int       `json:"pid"`
	Addr    string    `json:"addr"`
	Program string    `json:"program"`
	Started time.Time `json:"started"`
	// Err says why the agent did not answer /healthz; empty when it did.
	Err string `json:"error,omitempty"`
}

// discoverTimeout bounds the /healthz check of one registered agent.
const discoverTimeout = time.Second

// RegistryDir returns the per-user directory where listening agents
// register: $XDG_RUNTIME_DIR/asyncmon, or <os.TempDir()>/asyncmon-<uid>.
func RegistryDir() string { return registry.Dir() }

// Discover lists the agents registered by this user's processes, ordered
// by PID, each checked with /healthz (LocalAgent.Err says when it did not
// answer). Entries whose process is gone are removed from the registry. A
// missing registry is no error: it means no agent has run.
func Discover(ctx context.Context) ([]LocalAgent, error) {
	entries, err := registry.List()
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	agents := make([]LocalAgent, len(entries))
	for i, e := range entries {
		agents[i] = LocalAgent{PID: e.PID, Addr: e.Addr, Program: e.Program, Started: e.Started}
	}
	var wg sync.WaitGroup
	for i := range agents {
		wg.Go(func() {
			agents[i].Err = checkHealth(ctx, agents[i].Addr)
		})
	}
	wg.Wait()
	slices.SortFunc(agents, func(a, b LocalAgent) int { return a.PID - b.PID })
	return agents, nil
}

func checkHealth(ctx context.Context, addr string) string {
	c, err := New(addr)
	if err != nil {
		return err.Error()
	}
	ctx, cancel := context.WithTimeout(ctx, discoverTimeout)
	defer cancel()
	if err := c.Health(ctx); err != nil {
		return strings.TrimPrefix(err.Error(), "client: ")
	}
	return ""
}

package client

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
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

// SeveralAgentsError is Resolve's error when several healthy local agents
// are running and no chooser picks one.
type SeveralAgentsError struct {
	Agents []LocalAgent
}

func (e *SeveralAgentsError) Error() string {
	return fmt.Sprintf("client: %d local agents are running; pass one's PID or ADDR", len(e.Agents))
}

// Resolve turns a target as the command line takes it into an address: an
// address stays as it is, a PID is looked up in the local registry, and ""
// means the only healthy local agent, or the one choose picks among several
// (a *SeveralAgentsError when choose is nil).
func Resolve(ctx context.Context, target string, choose func(context.Context, []LocalAgent) (int, error)) (string, error) {
	pid, isPID := 0, false
	if n, err := strconv.Atoi(target); err == nil && n > 0 {
		pid, isPID = n, true
	}
	if target != "" && !isPID {
		return target, nil
	}
	agents, err := Discover(ctx)
	if err != nil {
		return "", err
	}
	if isPID {
		for _, a := range agents {
			if a.PID == pid {
				return a.Addr, nil
			}
		}
		return "", fmt.Errorf("no agent registered for pid %d (asyncmon ls lists the local agents; a process in another container or user is not listed: pass its ADDR)", pid)
	}
	var healthy []LocalAgent
	for _, a := range agents {
		if a.Err == "" {
			healthy = append(healthy, a)
		}
	}
	switch len(healthy) {
	case 0:
		return "", errors.New("no local agent is running (asyncmon ls lists them); pass ADDR or PID")
	case 1:
		return healthy[0].Addr, nil
	}
	if choose == nil {
		return "", &SeveralAgentsError{Agents: healthy}
	}
	i, err := choose(ctx, healthy)
	if err != nil {
		return "", err
	}
	return healthy[i].Addr, nil
}

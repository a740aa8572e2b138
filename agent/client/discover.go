package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
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
// It matches the agent's side (agent/registry.go).
func RegistryDir() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "asyncmon")
	}
	return filepath.Join(os.TempDir(), "asyncmon-"+strconv.Itoa(os.Getuid()))
}

// Discover lists the agents registered by this user's processes, ordered
// by PID, each checked with /healthz (LocalAgent.Err says when it did not
// answer). Entries whose process is gone are removed from the registry. A
// missing registry is no error: it means no agent has run.
func Discover(ctx context.Context) ([]LocalAgent, error) {
	dir := RegistryDir()
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("client: read agent registry: %w", err)
	}
	var agents []LocalAgent
	for _, e := range ents {
		name := e.Name()
		if !strings.HasSuffix(name, ".json") || strings.HasPrefix(name, ".") {
			continue
		}
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if err != nil {
			continue // removed meanwhile
		}
		var a LocalAgent
		if json.Unmarshal(data, &a) != nil || a.PID <= 0 || a.Addr == "" {
			continue
		}
		if processGone(a.PID) {
			os.Remove(path) // its agent crashed without Close
			continue
		}
		a.Err = ""
		agents = append(agents, a)
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

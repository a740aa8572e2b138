package demo

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// noTimeoutScenario is the outbound call without a deadline: GET
// /api/stock asks an inventory service through a client that has no
// Timeout, with a request built on context.Background() instead of the
// incoming request's context. Most answers come in milliseconds, one in
// twenty takes two seconds; the day the inventory service hangs, every
// /api/stock request waits with it, for ever. The connection tracker
// counts each such call at the line that made it.
func noTimeoutScenario() Scenario {
	return Scenario{
		Name:        "no-timeout",
		Description: "GET /api/stock calls an inventory service with no deadline at all (no context timeout, no client Timeout)",
		Run: func(env *Env) error {
			client := &http.Client{Transport: env.Agent().HTTPTransport(nil)} // no Timeout
			inventory := env.URL() + "/internal/inventory"
			env.Mux.HandleFunc("GET /internal/inventory", handleInventory)
			env.Mux.HandleFunc("GET /api/stock", func(w http.ResponseWriter, r *http.Request) {
				n, err := fetchStock(client, inventory+"?"+r.URL.RawQuery)
				if err != nil {
					http.Error(w, err.Error(), http.StatusBadGateway)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				json.NewEncoder(w).Encode(map[string]any{"in_stock": n})
			})
			env.Load(5, "/api/stock", func() string { return "item=" + strconv.Itoa(rand.IntN(100)) })
			return nil
		},
	}
}

// fetchStock asks the inventory service. The bug: context.Background()
// and a client without Timeout, so nothing bounds the wait.
func fetchStock(client *http.Client, url string) (int, error) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req) // the call without a deadline
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var v struct{ InStock int }
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return 0, err
	}
	return v.InStock, nil
}

// handleInventory answers in a few milliseconds, and in two seconds one
// time in twenty.
func handleInventory(w http.ResponseWriter, r *http.Request) {
	wait := time.Duration(1+rand.IntN(3)) * time.Millisecond
	if rand.IntN(20) == 0 {
		wait = 2 * time.Second
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"in_stock": rand.IntN(50)})
}

package demo

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
)

// leakScenario is a goroutine leak of the most common kind: a request
// path starts a goroutine that waits on a channel nobody closes.
//
// GET /api/watch subscribes to price updates for an item and starts a
// forwarder that ranges over the subscription's channel. The handler
// answers with the current price and unsubscribes on the way out; but
// unsubscribe only forgets the channel, it never closes it, so every
// forwarder waits for ever. The load generator calls it ten times a
// second, so ten goroutines leak every second.
func leakScenario() Scenario {
	return Scenario{
		Name:        "goroutine-leak",
		Description: "GET /api/watch leaks a forwarder goroutine per call on a channel nobody closes",
		Run: func(env *Env) error {
			bus := &priceBus{subs: make(map[int]chan float64)}
			env.Mux.HandleFunc("GET /api/watch", func(w http.ResponseWriter, r *http.Request) {
				item, _ := strconv.Atoi(r.URL.Query().Get("item"))
				id, updates := bus.subscribe()
				defer bus.unsubscribe(id)
				go forwardUpdates(item, updates)
				w.Header().Set("Content-Type", "application/json")
				json.NewEncoder(w).Encode(map[string]any{"item": item, "watching": true})
			})
			env.Load(10, "/api/watch", func() string { return "item=7" })
			return nil
		},
	}
}

// priceBus fans price updates out to subscribers.
type priceBus struct {
	mu   sync.Mutex // guards subs and next
	subs map[int]chan float64
	next int
}

func (b *priceBus) subscribe() (int, chan float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.next++
	ch := make(chan float64)
	b.subs[b.next] = ch
	return b.next, ch
}

// unsubscribe forgets the subscription. The bug: it should close the
// channel so the forwarder's range loop ends.
func (b *priceBus) unsubscribe(id int) {
	b.mu.Lock()
	delete(b.subs, id)
	b.mu.Unlock()
}

// forwardUpdates would push each update to the client's stream; it
// returns only when the channel is closed, which never happens.
func forwardUpdates(item int, updates <-chan float64) {
	for p := range updates { // parks here for ever: nobody closes updates
		_ = p // would write the update for item to the client
	}
	_ = item
}

package demo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
)

// starvationScenario is CPU-heavy work on a request path: GET /api/token
// derives an API token by stretching a secret with 400,000 rounds of
// SHA-256, synchronously, in the handler (it gives up when the client
// does). Each call costs about 100ms of CPU; at 40 calls a second the
// handlers want twice the CPU of a 2-core machine, runnable goroutines
// queue up, and every other request (and timer) waits for a CPU.
func starvationScenario() Scenario {
	return Scenario{
		Name:        "starvation",
		Description: "GET /api/token stretches a key with 400k SHA-256 rounds in the handler, saturating the CPU",
		Run: func(env *Env) error {
			env.Mux.HandleFunc("GET /api/token", func(w http.ResponseWriter, r *http.Request) {
				user := r.URL.Query().Get("user")
				tok, ok := deriveToken(r.Context(), []byte("secret:"+user), 400_000)
				if !ok {
					return // the client gave up
				}
				w.Header().Set("Content-Type", "application/json")
				json.NewEncoder(w).Encode(map[string]any{"user": user, "token": hex.EncodeToString(tok[:8])})
			})
			n := 0
			env.Load(40, "/api/token", func() string { n++; return "user=u" + strconv.Itoa(n%100) })
			return nil
		},
	}
}

// deriveToken stretches secret with rounds of SHA-256, checking every
// 10,000 rounds whether the request is still wanted.
func deriveToken(ctx context.Context, secret []byte, rounds int) ([32]byte, bool) {
	sum := sha256.Sum256(secret)
	for i := range rounds {
		if i%10_000 == 0 && ctx.Err() != nil {
			return sum, false
		}
		sum = sha256.Sum256(sum[:]) // the hot loop
	}
	return sum, true
}

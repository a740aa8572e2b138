package demo

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
)

// starvationScenario is CPU-heavy work on a request path: GET /api/token
// derives an API token by stretching a secret with 200,000 rounds of
// SHA-256, synchronously, in the handler. Each call costs tens of
// milliseconds of CPU; at 40 calls a second the handlers want more CPU
// than the process has, runnable goroutines queue up, and every other
// request (and timer) waits for a CPU.
func starvationScenario() Scenario {
	return Scenario{
		Name:        "starvation",
		Description: "GET /api/token stretches a key with 200k SHA-256 rounds in the handler, saturating the CPU",
		Run: func(env *Env) error {
			env.Mux.HandleFunc("GET /api/token", func(w http.ResponseWriter, r *http.Request) {
				user := r.URL.Query().Get("user")
				tok := deriveToken([]byte("secret:"+user), 200_000)
				w.Header().Set("Content-Type", "application/json")
				json.NewEncoder(w).Encode(map[string]any{"user": user, "token": hex.EncodeToString(tok[:8])})
			})
			n := 0
			env.Load(40, "/api/token", func() string { n++; return "user=u" + strconv.Itoa(n%100) })
			return nil
		},
	}
}

// deriveToken stretches secret with rounds of SHA-256.
func deriveToken(secret []byte, rounds int) [32]byte {
	sum := sha256.Sum256(secret)
	for range rounds {
		sum = sha256.Sum256(sum[:])
	}
	return sum
}

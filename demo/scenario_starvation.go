package demo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"runtime"
	"strconv"
	"time"
)

// starvationScenario is CPU-heavy work on a request path: GET /api/token
// derives an API token by stretching a secret with rounds of SHA-256,
// synchronously, in the handler (it gives up when the client does). The
// rounds are calibrated at start so that a call costs about 100 ms of CPU
// whatever the machine (SHA-256 speed varies several-fold between CPUs),
// and the load is 20 calls a second per CPU the process may use: the
// handlers want twice the CPU there is, runnable goroutines queue up, and
// every other request (and timer) waits for a CPU.
func starvationScenario() Scenario {
	return Scenario{
		Name:        "starvation",
		Description: "GET /api/token stretches a key with SHA-256 rounds in the handler, wanting twice the CPU the process has",
		Run: func(env *Env) error {
			rounds := calibrateRounds(tokenCost)
			env.Mux.HandleFunc("GET /api/token", func(w http.ResponseWriter, r *http.Request) {
				user := r.URL.Query().Get("user")
				tok, ok := deriveToken(r.Context(), []byte("secret:"+user), rounds)
				if !ok {
					return // the client gave up
				}
				w.Header().Set("Content-Type", "application/json")
				json.NewEncoder(w).Encode(map[string]any{"user": user, "token": hex.EncodeToString(tok[:8])})
			})
			n := 0
			rate := 2 * float64(runtime.GOMAXPROCS(0)) / tokenCost.Seconds()
			env.Load(rate, "/api/token", func() string { n++; return "user=u" + strconv.Itoa(n%100) })
			return nil
		},
	}
}

// tokenCost is the CPU one /api/token call is calibrated to.
const tokenCost = 100 * time.Millisecond

// calibrateRounds returns how many deriveToken rounds take about cost on
// this machine, timing a short run (the fastest of three, so a scheduling
// hiccup does not make every later call cheap).
func calibrateRounds(cost time.Duration) int {
	const probe = 20_000
	best := time.Duration(1<<63 - 1)
	for range 3 {
		start := time.Now()
		deriveToken(context.Background(), []byte("calibrate"), probe)
		best = min(best, time.Since(start))
	}
	rounds := int(float64(probe) * cost.Seconds() / max(best.Seconds(), 1e-9))
	return min(max(rounds, 50_000), 20_000_000)
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

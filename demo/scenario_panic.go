package demo

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// panicScenario is a handler that panics on some inputs: GET
// /api/discount reads a discount code "KIND-PERCENT" and indexes the
// parts without checking that there are two. One request in three
// carries a code without a dash, so the handler panics with an index out
// of range. net/http recovers it, logs it and drops the connection; the
// client just sees an EOF. The agent's middleware counts each panic at
// the handler's line.
func panicScenario() Scenario {
	return Scenario{
		Name:        "panic",
		Description: "GET /api/discount panics (index out of range) on one request in three",
		Run: func(env *Env) error {
			env.Mux.HandleFunc("GET /api/discount", handleDiscount)
			n := 0
			env.Load(3, "/api/discount", func() string {
				n++
				if n%3 == 0 {
					return "code=SPRING"
				}
				return "code=SPRING-" + strconv.Itoa(5+n%20)
			})
			return nil
		},
	}
}

// handleDiscount answers the discount a code grants. The bug: a code
// without a dash has one part only.
func handleDiscount(w http.ResponseWriter, r *http.Request) {
	parts := strings.SplitN(r.URL.Query().Get("code"), "-", 2)
	percent, err := strconv.Atoi(parts[1]) // panics: index out of range for a code without a dash
	if err != nil {
		http.Error(w, "bad discount code", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"kind": parts[0], "percent": percent})
}

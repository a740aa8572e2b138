package demo

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"modernc.org/sqlite"
)

// The conn-leak scenario plays the two classic connection leaks, at a
// steady rate, through the agent's connection tracker:
//
//   - /api/convert asks a flaky rates service (1 answer in 4 is a 503)
//     and, on that error branch, returns without closing the response body;
//   - a report job sums the lines of one order after another and, on an
//     order with an empty line, returns early without rows.Close(), so the
//     query's connection never goes back to the pool. Once the pool is dry,
//     the /api/orders handlers wait for connections and time out.
//
// The database is an embedded SQLite (pure Go), so the scenario needs no
// set-up.
const (
	connLeakConvertRate = 8   // /api/convert requests per second
	connLeakOrdersRate  = 10  // /api/orders requests per second
	connLeakRatesFail   = 4   // one rates answer in this many is a 503
	connLeakEmptyEvery  = 5   // one order in this many has an empty line
	connLeakPoolSize    = 8   // the orders pool's MaxOpenConns
	connLeakOrders      = 100 // orders in the database
	connLeakReportEvery = 700 * time.Millisecond
	connLeakQueryTO     = 250 * time.Millisecond
)

func connLeakScenario() Scenario {
	return Scenario{
		Name:        "conn-leak",
		Description: "response bodies left open on an error branch, and sql.Rows left open on an early return until the pool runs dry",
		Run:         runConnLeak,
	}
}

func runConnLeak(env *Env) error {
	a := env.Agent()

	// The client path.
	client := &http.Client{Transport: a.HTTPTransport(nil)}
	env.Mux.HandleFunc("GET /internal/rates", handleRates)
	ratesURL := env.URL() + "/internal/rates"
	env.Mux.HandleFunc("GET /api/convert", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		rate, err := fetchRate(ctx, client, ratesURL)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		writeJSONValue(w, map[string]float64{"rate": rate})
	})
	env.Load(connLeakConvertRate, "/api/convert", func() string { return "cur=EUR" })

	// The database path. A unique name: several demos may share a process.
	dsn := fmt.Sprintf("file:asyncmon-demo-orders-%x?mode=memory&cache=shared", rand.Uint64())
	db := a.OpenDB("orders", a.Conns().WrapDriver("orders", &sqlite.Driver{}, dsn))
	db.SetMaxOpenConns(connLeakPoolSize)
	if err := seedOrders(db); err != nil {
		db.Close()
		return err
	}
	env.Mux.HandleFunc("GET /api/orders", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.Atoi(r.URL.Query().Get("id"))
		if err != nil {
			http.Error(w, "id: want an integer", http.StatusBadRequest)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), connLeakQueryTO)
		defer cancel()
		n, err := countLines(ctx, db, id)
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		writeJSONValue(w, map[string]int{"id": id, "lines": n})
	})
	env.Load(connLeakOrdersRate, "/api/orders", func() string { return "id=" + strconv.Itoa(1+rand.IntN(connLeakOrders)) })

	env.Go(func(ctx context.Context) { reportJob(ctx, db) })
	env.Go(func(ctx context.Context) {
		<-ctx.Done()
		// Closing the pool also wakes a report job waiting for a
		// connection that will never come back.
		db.Close()
		client.CloseIdleConnections()
	})
	return nil
}

// handleRates is the flaky rates service.
func handleRates(w http.ResponseWriter, r *http.Request) {
	if rand.IntN(connLeakRatesFail) == 0 {
		http.Error(w, "rates temporarily unavailable", http.StatusServiceUnavailable)
		return
	}
	writeJSONValue(w, map[string]float64{"rate": 1.08 + rand.Float64()/100})
}

// fetchRate asks the rates service. Its error branch is the bug.
func fetchRate(ctx context.Context, client *http.Client, url string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req) // opens the body that leaks below
	if err != nil {
		return 0, fmt.Errorf("rates: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("rates: %s", resp.Status) // BUG: resp.Body is never closed
	}
	defer resp.Body.Close()
	var v struct{ Rate float64 }
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return 0, fmt.Errorf("rates: %w", err)
	}
	return v.Rate, nil
}

// seedOrders creates the orders: every connLeakEmptyEvery-th has an empty
// line (quantity 0).
func seedOrders(db *sql.DB) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, `CREATE TABLE order_lines (order_id INTEGER, sku TEXT, qty INTEGER)`); err != nil {
		return fmt.Errorf("orders: %w", err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("orders: %w", err)
	}
	defer tx.Rollback()
	for id := 1; id <= connLeakOrders; id++ {
		for line := range 3 {
			qty := 1 + line
			if id%connLeakEmptyEvery == 0 && line == 1 {
				qty = 0
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO order_lines VALUES (?, ?, ?)`, id, fmt.Sprintf("sku-%d-%d", id, line), qty); err != nil {
				return fmt.Errorf("orders: %w", err)
			}
		}
	}
	return tx.Commit()
}

// countLines is the healthy path: it closes its rows on every path.
func countLines(ctx context.Context, db *sql.DB, id int) (int, error) {
	rows, err := db.QueryContext(ctx, `SELECT qty FROM order_lines WHERE order_id = ?`, id)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	return n, rows.Err()
}

var errEmptyLine = errors.New("order has an empty line")

// orderTotal sums an order's quantities. Its early return is the bug.
func orderTotal(db *sql.DB, id int) (int, error) {
	rows, err := db.Query(`SELECT qty FROM order_lines WHERE order_id = ?`, id) // opens the rows that leak below
	if err != nil {
		return 0, err
	}
	total := 0
	for rows.Next() {
		var qty int
		if err := rows.Scan(&qty); err != nil {
			rows.Close()
			return 0, err
		}
		if qty == 0 {
			return 0, errEmptyLine // BUG: rows.Close() is never called
		}
		total += qty
	}
	rows.Close()
	return total, rows.Err()
}

// reportJob totals one order after another until ctx ends.
func reportJob(ctx context.Context, db *sql.DB) {
	t := time.NewTicker(connLeakReportEvery)
	defer t.Stop()
	for id := 1; ; id = id%connLeakOrders + 1 {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_, _ = orderTotal(db, id) // errors are the report's problem, not the demo's
	}
}

func writeJSONValue(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

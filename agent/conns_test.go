package agent

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/internal/testenv"
	"github.com/asyncmon/asyncmon/model"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// waitLatest polls the agent's snapshots until cond holds.
func waitLatest(t *testing.T, a *Agent, what string, cond func(*model.Snapshot) bool) *model.Snapshot {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if s := a.Latest(); cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond) // polling interval
	}
}

func getConnections(t *testing.T, a *Agent, query string) model.Connections {
	t.Helper()
	code, body := get(t, "http://"+a.Addr()+"/api/v1/connections"+query)
	if code != http.StatusOK {
		t.Fatalf("GET /api/v1/connections%s: status %d: %s", query, code, body)
	}
	var cs model.Connections
	if err := json.Unmarshal([]byte(body), &cs); err != nil {
		t.Fatal(err)
	}
	return cs
}

func TestConnectionsEndpointAndMetrics(t *testing.T) {
	a := start(t, Options{Interval: 20 * time.Millisecond})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strings.Repeat("x", 100))
	}))
	srv.Listener = a.WrapListener(srv.Listener)
	srv.Start()
	defer srv.Close()
	client := &http.Client{Transport: a.HTTPTransport(nil)}
	defer client.CloseIdleConnections()

	for range 3 {
		resp, err := client.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	held, err := client.Get(srv.URL + "/held") // a body left open for now
	if err != nil {
		t.Fatal(err)
	}
	defer held.Body.Close()

	waitLatest(t, a, "the open body and connections in a snapshot", func(s *model.Snapshot) bool {
		o := s.Connections.OpenByKind
		return o[model.ConnHTTPBody] == 1 && o[model.ConnServer] >= 1 && o[model.ConnClient] >= 1
	})

	all := getConnections(t, a, "?sort=idle")
	if all.OpenTotal < 3 || len(all.Open) != all.OpenTotal {
		t.Errorf("open_total %d, listed %d; want at least 3, all listed", all.OpenTotal, len(all.Open))
	}
	for i := 1; i < len(all.Open); i++ {
		if all.Open[i].IdleSeconds > all.Open[i-1].IdleSeconds {
			t.Errorf("sort=idle: %v after %v", all.Open[i].IdleSeconds, all.Open[i-1].IdleSeconds)
		}
	}
	bodies := getConnections(t, a, "?kind=http-body&sort=age&limit=5")
	if len(bodies.Open) != 1 {
		t.Fatalf("kind=http-body: %d listed, want 1", len(bodies.Open))
	}
	if b := bodies.Open[0]; filepath.Base(b.OpenSite.File) != "conns_test.go" || !strings.HasSuffix(b.OpenSite.Func, "TestConnectionsEndpointAndMetrics") {
		t.Errorf("body open site = %+v, want this test", b.OpenSite)
	}
	if bodies.OpenByKind[model.ConnServer] < 1 {
		t.Errorf("counts are filtered: %v", bodies.OpenByKind)
	}
	if got := getConnections(t, a, "?limit=1"); len(got.Open) != 1 {
		t.Errorf("limit=1: %d listed", len(got.Open))
	}

	for _, q := range []string{"?sort=newest", "?kind=socket", "?limit=0", "?limit=x", "?order=asc"} {
		code, body := get(t, "http://"+a.Addr()+"/api/v1/connections"+q)
		var e struct {
			Error string `json:"error"`
		}
		if code != http.StatusBadRequest || json.Unmarshal([]byte(body), &e) != nil || e.Error == "" {
			t.Errorf("%s: status %d body %q, want 400 with a JSON error", q, code, body)
		}
	}

	_, metrics := get(t, "http://"+a.Addr()+"/metrics")
	for _, want := range []string{
		`asyncmon_connections_open{kind="http-body"} 1`,
		`asyncmon_connections_leaked_total{kind="http-body"} 0`,
		`asyncmon_connections_open{kind="sql-rows"} 0`,
		"process_open_fds",
		"process_max_fds",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	problems, err := testutil.GatherAndLint(a.Registry())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "asyncmon_") {
			t.Errorf("lint: %s: %s", p.Metric, p.Text)
		}
	}
}

func TestPoolMetricsPostgres(t *testing.T) {
	pg := testenv.StartPostgres(t)
	a := start(t, Options{Interval: 20 * time.Millisecond})
	db := a.OpenDB("orders", a.Conns().WrapDriver("orders", stdlib.GetDefaultDriver(), pg.DSN))
	defer db.Close()
	db.SetMaxOpenConns(2)
	ctx := context.Background()
	var tx *sql.Tx
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()

	waitLatest(t, a, "the pool with one connection in use", func(s *model.Snapshot) bool {
		// A snapshot may fall between the pool handing out the connection
		// and the driver starting the transaction: wait for both.
		return len(s.Connections.Pools) == 1 && s.Connections.Pools[0].InUse == 1 &&
			s.Connections.OpenByKind[model.ConnSQLTx] == 1
	})
	_, metrics := get(t, "http://"+a.Addr()+"/metrics")
	for _, want := range []string{
		`asyncmon_db_pool_connections{pool="orders",state="in_use"} 1`,
		`asyncmon_db_pool_connections{pool="orders",state="open"} 1`,
		`asyncmon_db_pool_max_open_connections{pool="orders"} 2`,
		`asyncmon_db_pool_wait_count_total{pool="orders"} 0`,
		`asyncmon_db_pool_wait_duration_seconds_total{pool="orders"} 0`,
		`asyncmon_connections_open{kind="sql-tx"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	cs := getConnections(t, a, "?pool=orders")
	if len(cs.Open) != 2 { // the driver connection and the transaction
		t.Errorf("pool=orders: %d listed, want 2: %+v", len(cs.Open), cs.Open)
	}
}

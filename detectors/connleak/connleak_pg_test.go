package connleak_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/collectors/conns"
	"github.com/asyncmon/asyncmon/detectors/connleak"
	"github.com/asyncmon/asyncmon/internal/testenv"
	"github.com/asyncmon/asyncmon/model"
	"github.com/jackc/pgx/v5/stdlib"
)

// This file runs the conn-leak detector on snapshots of a real PostgreSQL
// pool, used through database/sql and the pgx driver, wrapped by the
// connection tracker.

var errNoOrder = errors.New("no such order")

// orderTotal is the healthy path: the rows are closed on every path.
//
//go:noinline
func orderTotal(ctx context.Context, db *sql.DB, id int) (int, error) {
	rows, err := db.QueryContext(ctx, "SELECT g FROM generate_series(1, 3) AS g WHERE $1::int > 0", id)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	total := 0
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return 0, err
		}
		total += v
	}
	return total, rows.Err()
}

// orderFirstLine is the buggy path: an early return that forgets
// rows.Close, the query's connection is never given back to the pool.
//
//go:noinline
func orderFirstLine(db *sql.DB, id int) (int, error) {
	rows, err := db.Query("SELECT g FROM generate_series(1, 3) AS g WHERE $1::int > 0", id) // MARK:pg-leak
	if err != nil {
		return 0, err
	}
	if !rows.Next() {
		rows.Close()
		return 0, errNoOrder
	}
	var v int
	if err := rows.Scan(&v); err != nil {
		rows.Close()
		return 0, err
	}
	return v, nil // BUG: rows still open
}

// pgLine returns the line of the marker in the caller's file.
func pgLine(t *testing.T, marker string) int {
	t.Helper()
	_, file, _, _ := runtime.Caller(1)
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(src), "\n") {
		if strings.Contains(l, marker) && !strings.Contains(l, "pgLine(") {
			return i + 1
		}
	}
	t.Fatalf("marker %q not found", marker)
	return 0
}

// snap collects the tracker into a snapshot stamped at.
func snap(t *testing.T, tr *conns.Tracker, at time.Time) *model.Snapshot {
	t.Helper()
	s := &model.Snapshot{Time: at}
	if err := tr.Collect(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConnLeakPostgres(t *testing.T) {
	defer testenv.SettleFinalizers(t) // the leaked connections' sockets
	pg := testenv.StartPostgres(t)
	tr := conns.NewTracker(conns.Options{})
	db := tr.OpenDB("orders", tr.WrapDriver("orders", stdlib.GetDefaultDriver(), pg.DSN))
	defer db.Close()
	const maxOpen = 4
	db.SetMaxOpenConns(maxOpen)
	ctx := context.Background()
	det := connleak.New(connleak.Config{})
	t0 := time.Now()

	// Healthy: concurrent queries, each closing its rows, and a
	// transaction that commits. Nothing to report.
	var w model.Window
	for i := range 5 {
		errs := make(chan error, 8)
		for j := range 8 {
			go func() {
				total, err := orderTotal(ctx, db, i*8+j+1)
				if err == nil && total != 6 {
					err = errors.New("wrong total")
				}
				errs <- err
			}()
		}
		for range 8 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, "SELECT 1"); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		w.Snapshots = append(w.Snapshots, snap(t, tr, t0.Add(time.Duration(i)*time.Second)))
	}
	if fs := det.Detect(w); len(fs) != 0 {
		for _, f := range fs {
			t.Errorf("healthy path: unexpected finding %s: %s", f.ID, f.Summary)
		}
	}
	latest := w.Latest().Connections
	if n := latest.OpenByKind[model.ConnSQLRows] + latest.OpenByKind[model.ConnSQLTx]; n != 0 {
		t.Errorf("healthy path: %d rows or transactions still open", n)
	}
	if n := latest.OpenByKind[model.ConnSQL]; n < 1 || n > maxOpen {
		t.Errorf("healthy path: %d driver connections open, want 1..%d", n, maxOpen)
	}
	if len(latest.Pools) != 1 || latest.Pools[0].MaxOpen != maxOpen || latest.Pools[0].InUse != 0 {
		t.Errorf("healthy path: pools = %+v", latest.Pools)
	}

	// Leaky: every call of the buggy path keeps a connection, until the
	// pool is exhausted and callers wait.
	for i := range maxOpen {
		if _, err := orderFirstLine(db, i+1); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		_, err := orderTotal(wctx, db, 1)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("query on an exhausted pool: got %v, want a deadline exceeded", err)
		}
	}
	w.Snapshots = append(w.Snapshots, snap(t, tr, t0.Add(10*time.Second)))

	wantSite := pgLine(t, "MARK:pg-leak")
	checkSubject := func(f model.Finding) {
		t.Helper()
		if !strings.HasSuffix(f.Subject, "connleak_pg_test.go:"+strconv.Itoa(wantSite)) {
			t.Errorf("%s: subject %q, want connleak_pg_test.go:%d (orderFirstLine)", f.ID, f.Subject, wantSite)
		}
		if !strings.Contains(f.Summary, "orderFirstLine") {
			t.Errorf("%s: summary does not name orderFirstLine: %s", f.ID, f.Summary)
		}
	}
	byID := func(fs []model.Finding) map[string]model.Finding {
		m := map[string]model.Finding{}
		for _, f := range fs {
			m[f.ID] = f
		}
		return m
	}

	// Before the garbage collector finds the dropped rows: the exhausted
	// pool, held by the buggy path.
	fs := byID(det.Detect(w))
	pool, ok := fs["conn-leak:pool:orders"]
	if !ok {
		t.Fatalf("no pool exhaustion finding; got %v", fs)
	}
	checkSubject(pool)
	if pool.Level != model.LevelCritical || pool.Evidence.Numbers["pool_waits"] < 3 {
		t.Errorf("pool finding: level %s, waits %v", pool.Level, pool.Evidence.Numbers["pool_waits"])
	}

	// After: the same, plus definite leaks at the buggy line.
	deadline := time.Now().Add(10 * time.Second)
	for tr.LeakedCount(model.ConnSQLRows) < maxOpen {
		if time.Now().After(deadline) {
			t.Fatalf("definite leaks: %d, want %d", tr.LeakedCount(model.ConnSQLRows), maxOpen)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond) // polling interval
	}
	w.Snapshots = append(w.Snapshots, snap(t, tr, t0.Add(11*time.Second)))
	fs = byID(det.Detect(w))
	var leak model.Finding
	for id, f := range fs {
		if strings.HasPrefix(id, "conn-leak:leak:sql-rows:") {
			leak = f
		}
	}
	if leak.ID == "" {
		t.Fatalf("no definite sql-rows leak finding; got %v", fs)
	}
	checkSubject(leak)
	if got := leak.Evidence.Numbers["site_leaks_total"]; got != maxOpen {
		t.Errorf("site_leaks_total = %v, want %d", got, maxOpen)
	}
	pool, ok = fs["conn-leak:pool:orders"]
	if !ok {
		t.Fatal("pool exhaustion finding gone once the leaks are definite")
	}
	checkSubject(pool)
	for id := range fs {
		if strings.Contains(id, "orderTotal") || strings.Contains(id, ":sql:") {
			t.Errorf("finding about a healthy path: %s", id)
		}
	}
}

// holdRows runs a query with a cancellable context and returns its rows
// unread: database/sql keeps them reachable (and closes them when ctx
// ends), so they are held, not a definite leak.
//
//go:noinline
func holdRows(ctx context.Context, t *testing.T, db *sql.DB) *sql.Rows {
	rows, err := db.QueryContext(ctx, "SELECT g FROM generate_series(1, 3) AS g") // MARK:pg-held
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestConnLeakPostgresHeldRows(t *testing.T) {
	pg := testenv.StartPostgres(t)
	tr := conns.NewTracker(conns.Options{})
	db := tr.OpenDB("orders", tr.WrapDriver("orders", stdlib.GetDefaultDriver(), pg.DSN))
	defer db.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	det := connleak.New(connleak.Config{HeldIdle: 200 * time.Millisecond})

	rows := holdRows(ctx, t, db)
	defer rows.Close()
	var held model.Finding
	deadline := time.Now().Add(10 * time.Second)
	for held.ID == "" {
		if time.Now().After(deadline) {
			t.Fatal("no held finding within 10s")
		}
		runtime.GC() // must not turn held rows into a definite leak
		w := model.Window{Snapshots: []*model.Snapshot{snap(t, tr, time.Now())}}
		for _, f := range det.Detect(w) {
			if strings.HasPrefix(f.ID, "conn-leak:held:sql-rows:") {
				held = f
			} else {
				t.Errorf("unexpected finding %s: %s", f.ID, f.Summary)
			}
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
	if want := pgLine(t, "MARK:pg-held"); !strings.HasSuffix(held.Subject, "connleak_pg_test.go:"+strconv.Itoa(want)) || !strings.Contains(held.Summary, "holdRows") {
		t.Errorf("held finding: subject %q summary %q, want holdRows at line %d", held.Subject, held.Summary, want)
	}
	if n := tr.LeakedCount(model.ConnSQLRows); n != 0 {
		t.Errorf("held rows reported as %d definite leaks", n)
	}
	rows.Close()
	if fs := det.Detect(model.Window{Snapshots: []*model.Snapshot{snap(t, tr, time.Now())}}); len(fs) != 0 {
		t.Errorf("findings after closing the rows: %v", fs)
	}
}

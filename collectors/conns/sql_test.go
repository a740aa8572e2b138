package conns_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/collectors/conns"
	"github.com/asyncmon/asyncmon/internal/testenv"
	"github.com/asyncmon/asyncmon/model"
	"github.com/jackc/pgx/v5/stdlib"
	"go.uber.org/goleak"
)

// dropRows runs a query and drops its rows without Close.
//
//go:noinline
func dropRows(t *testing.T, db *sql.DB) {
	rows, err := db.Query("SELECT 1") // MARK:drop-rows
	if err != nil {
		t.Fatal(err)
	}
	if !rows.Next() {
		t.Fatal("no row")
	}
}

func openByKind(cs model.Connections, kind string) []model.Conn {
	var out []model.Conn
	for _, c := range cs.Open {
		if c.Kind == kind {
			out = append(out, c)
		}
	}
	return out
}

func TestSQLTrackingPostgres(t *testing.T) {
	// Joins the goroutines the test started (transport loops wind down
	// after Close), so later tests count goroutines undisturbed.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	defer testenv.SettleFinalizers(t) // the leaked connection's socket
	pg := testenv.StartPostgres(t)
	tr := conns.NewTracker(conns.Options{})
	db := tr.OpenDB("pg", tr.WrapDriver("pg", stdlib.GetDefaultDriver(), pg.DSN))
	defer db.Close()
	db.SetMaxOpenConns(3)
	ctx := context.Background()

	// The driver's optional interfaces still work through the wrapper:
	// column types, its own argument conversion, transactions with options.
	rows, err := db.QueryContext(ctx, "SELECT $1::text AS name, $2::numeric(10,2) AS price, $3::timestamptz AS at", "tea", "3.50", time.Unix(0, 0)) // MARK:open-rows
	if err != nil {
		t.Fatal(err)
	}
	cts, err := rows.ColumnTypes()
	if err != nil {
		t.Fatal(err)
	}
	if got := cts[0].DatabaseTypeName(); got != "TEXT" {
		t.Errorf("column type = %q, want TEXT (the driver's)", got)
	}
	if p, s, ok := cts[1].DecimalSize(); !ok || p != 10 || s != 2 {
		t.Errorf("decimal size = %d,%d,%v, want 10,2,true", p, s, ok)
	}

	cs := collect(t, tr)
	open := openByKind(cs, model.ConnSQLRows)
	if len(open) != 1 {
		t.Fatalf("open rows = %d, want 1", len(open))
	}
	if want := lineOf(t, "MARK:open-rows"); open[0].OpenSite.Line != want || open[0].Pool != "pg" {
		t.Errorf("rows = site %+v pool %q, want line %d pool pg", open[0].OpenSite, open[0].Pool, want)
	}
	if p := cs.Pools; len(p) != 1 || p[0].Name != "pg" || p[0].InUse != 1 || p[0].MaxOpen != 3 || p[0].Kind != conns.PoolKindSQL {
		t.Errorf("pools = %+v, want pg with one in use of 3", p)
	}
	for rows.Next() {
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}

	tx, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelSerializable, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := tr.OpenCount(model.ConnSQLTx); n != 1 {
		t.Errorf("open transactions = %d, want 1", n)
	}
	var iso string
	if err := tx.QueryRowContext(ctx, "SHOW transaction_isolation").Scan(&iso); err != nil {
		t.Fatal(err)
	}
	if iso != "serializable" {
		t.Errorf("isolation = %q, want serializable", iso)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}

	// Prepared statements: their rows are tracked too.
	stmt, err := db.PrepareContext(ctx, "SELECT g FROM generate_series(1, $1::int) AS g")
	if err != nil {
		t.Fatal(err)
	}
	srows, err := stmt.QueryContext(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	if n := tr.OpenCount(model.ConnSQLRows); n != 1 {
		t.Errorf("open rows during a statement query = %d, want 1", n)
	}
	n := 0
	for srows.Next() {
		n++
	}
	if err := srows.Close(); err != nil || n != 3 {
		t.Errorf("statement rows: %d rows, close error %v; want 3, nil", n, err)
	}
	stmt.Close()

	// Named arguments the driver does not support are refused, as without
	// the wrapper.
	if _, err := db.ExecContext(ctx, "SELECT 1", sql.Named("x", 1)); err == nil {
		t.Error("named argument accepted, want the driver's error")
	}

	for _, k := range []string{model.ConnSQLRows, model.ConnSQLTx} {
		if n := tr.OpenCount(k); n != 0 {
			t.Errorf("open %s = %d after closing everything, want 0", k, n)
		}
	}

	// Dropped rows: a definite leak at the query's line.
	dropRows(t, db)
	waitFor(t, "the dropped rows to be found leaked", func() bool { return tr.LeakedCount(model.ConnSQLRows) == 1 })
	leak, ok := findLeak(collect(t, tr), model.ConnSQLRows)
	if want := lineOf(t, "MARK:drop-rows"); !ok || leak.OpenSite.Line != want || !strings.HasSuffix(leak.OpenSite.Func, ".dropRows") || leak.Pool != "pg" {
		t.Errorf("leak = %+v, want dropRows line %d in pool pg", leak.OpenSite, want)
	}
	if p := collect(t, tr).Pools[0]; p.InUse != 1 {
		t.Errorf("in use after the leak = %d, want 1 (the leaked rows keep their connection)", p.InUse)
	}
	if n := tr.LeakedCount(model.ConnSQL); n != 0 {
		t.Errorf("driver connections reported leaked: %d", n)
	}
}

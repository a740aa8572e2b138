package testenv_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/asyncmon/asyncmon/internal/testenv"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

func TestStartPostgres(t *testing.T) {
	pg := testenv.StartPostgres(t)
	db, err := sql.Open("pgx", pg.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var got int
	if err := db.QueryRowContext(context.Background(), "SELECT 40 + 2").Scan(&got); err != nil {
		t.Fatalf("query: %v", err)
	}
	if got != 42 {
		t.Errorf("SELECT 40 + 2 = %d, want 42", got)
	}
}

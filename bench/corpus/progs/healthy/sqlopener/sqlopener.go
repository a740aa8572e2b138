// Package sqlopener uses database/sql with a small in-process driver of
// its own: two opened databases (each with its connection-opener
// goroutine, parked for the life of the DB), a pool of idle connections,
// and a query every 2 s. Healthy.
package sqlopener

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "sqlopener", Class: corpus.Healthy, Short: true,
		Doc: "two database/sql DBs (opener goroutines parked), idle pooled connections, a query every 2 s",
		Run: run,
	})
}

// kv is the "database": a map served through driver.Conn.
type kv struct {
	mu   sync.Mutex
	rows map[string]string
}

type connector struct{ db *kv }

func (c connector) Connect(context.Context) (driver.Conn, error) { return &conn{db: c.db}, nil }
func (c connector) Driver() driver.Driver                        { return nil }

type conn struct{ db *kv }

func (c *conn) Prepare(query string) (driver.Stmt, error) { return &stmt{c: c, query: query}, nil }
func (c *conn) Close() error                              { return nil }
func (c *conn) Begin() (driver.Tx, error)                 { return nil, errors.New("kv: no transactions") }

type stmt struct {
	c     *conn
	query string
}

func (s *stmt) Close() error  { return nil }
func (s *stmt) NumInput() int { return 1 }
func (s *stmt) Exec(args []driver.Value) (driver.Result, error) {
	s.c.db.mu.Lock()
	defer s.c.db.mu.Unlock()
	s.c.db.rows[s.query] = args[0].(string)
	return driver.RowsAffected(1), nil
}
func (s *stmt) Query(args []driver.Value) (driver.Rows, error) {
	s.c.db.mu.Lock()
	defer s.c.db.mu.Unlock()
	return &rows{vals: []string{s.c.db.rows[args[0].(string)]}}, nil
}

type rows struct{ vals []string }

func (r *rows) Columns() []string { return []string{"v"} }
func (r *rows) Close() error      { return nil }
func (r *rows) Next(dest []driver.Value) error {
	if len(r.vals) == 0 {
		return io.EOF
	}
	dest[0], r.vals = r.vals[0], r.vals[1:]
	return nil
}

func run(ctx context.Context) {
	users := sql.OpenDB(connector{db: &kv{rows: map[string]string{}}})
	audit := sql.OpenDB(connector{db: &kv{rows: map[string]string{}}})
	users.SetMaxIdleConns(4)
	// Open a few connections at once so that the pool holds idle ones.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { users.ExecContext(ctx, "user:1", "ada") })
	}
	wg.Wait()
	for ctx.Err() == nil {
		var name string
		if err := users.QueryRowContext(ctx, "get", "user:1").Scan(&name); err != nil {
			_ = err
		}
		audit.ExecContext(ctx, "last-read", time.Now().String())
		time.Sleep(2 * time.Second)
	}
	users.Close()
	audit.Close()
}

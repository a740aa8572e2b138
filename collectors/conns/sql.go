package conns

//lint:file-ignore SA1019 the wrappers forward the deprecated driver methods to drivers that have only them, as database/sql does.

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"reflect"

	"github.com/asyncmon/asyncmon/model"
)

// OpenDB opens a database/sql pool over connector with its connections
// (kind "sql"), result sets ("sql-rows") and transactions ("sql-tx")
// tracked and its pool statistics reported under pool:
//
//	db := tracker.OpenDB("orders", connector)
//
// It is [sql.OpenDB] over [Tracker.WrapConnector], then
// [Tracker.TrackDB].
func (t *Tracker) OpenDB(pool string, connector driver.Connector) *sql.DB {
	db := sql.OpenDB(t.WrapConnector(pool, connector))
	t.TrackDB(pool, db)
	return db
}

// WrapDriver returns a tracked connector opening dsn with d, for drivers
// that are usually reached through sql.Open(name, dsn):
//
//	db := tracker.OpenDB("main", tracker.WrapDriver("main", &sqlite.Driver{}, "file:app.db"))
func (t *Tracker) WrapDriver(pool string, d driver.Driver, dsn string) driver.Connector {
	if dc, ok := d.(driver.DriverContext); ok {
		c, err := dc.OpenConnector(dsn)
		if err != nil {
			return t.WrapConnector(pool, errConnector{d: d, err: err})
		}
		return t.WrapConnector(pool, c)
	}
	return t.WrapConnector(pool, dsnConnector{d: d, dsn: dsn})
}

// dsnConnector is the connector database/sql itself builds for a driver
// without OpenConnector.
type dsnConnector struct {
	d   driver.Driver
	dsn string
}

func (c dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.d.Open(c.dsn) }
func (c dsnConnector) Driver() driver.Driver                        { return c.d }

// errConnector reports a failed OpenConnector on every connection attempt,
// as sql.Open would have reported it on the first.
type errConnector struct {
	d   driver.Driver
	err error
}

func (c errConnector) Connect(context.Context) (driver.Conn, error) { return nil, c.err }
func (c errConnector) Driver() driver.Driver                        { return c.d }

// WrapConnector returns c with its connections, result sets and
// transactions tracked under pool. Use the result with [sql.OpenDB] (and
// [Tracker.TrackDB] for the pool statistics), or call
// [Tracker.OpenDB].
//
// The opening site of a result set or transaction is the call that made
// it (db.Query, tx.QueryRow, ...). A result set dropped without Close is a
// definite leak once the garbage collector finds it unreachable, which
// needs a context without a Done channel (such as context.Background; a
// cancellable context keeps it reachable until cancellation closes it).
// Result sets of prepared statements stay reachable through the statement,
// and transactions through their own goroutine, so those show up as held
// long and idle rather than as definite leaks.
//
// A connector this tracker already wrapped is returned as it is.
func (t *Tracker) WrapConnector(pool string, c driver.Connector) driver.Connector {
	if sc, ok := c.(*sqlConnector); ok && sc.t == t {
		return sc
	}
	return &sqlConnector{c: c, t: t, pool: pool}
}

type sqlConnector struct {
	c    driver.Connector
	t    *Tracker
	pool string
}

// Connect opens and tracks a driver connection.
func (c *sqlConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.c.Connect(ctx)
	if err != nil {
		return nil, err
	}
	// The pool, not the user, owns driver connections: no leak watch.
	st := c.t.begin(kindSQL, 0, c.pool, nil, nil, "")
	return &sqlConn{c: conn, st: st}, nil
}

// Driver returns the wrapped connector's driver.
func (c *sqlConnector) Driver() driver.Driver { return c.c.Driver() }

// Close closes the wrapped connector when it is an io.Closer (sql.DB.Close
// calls it).
func (c *sqlConnector) Close() error {
	if cl, ok := c.c.(io.Closer); ok {
		return cl.Close()
	}
	return nil
}

// sqlConn wraps a driver connection. It implements every optional
// interface database/sql looks for and falls back exactly as database/sql
// would when the wrapped connection lacks one.
type sqlConn struct {
	c  driver.Conn
	st *connState
}

var (
	_ driver.Conn               = (*sqlConn)(nil)
	_ driver.ConnPrepareContext = (*sqlConn)(nil)
	_ driver.ConnBeginTx        = (*sqlConn)(nil)
	_ driver.ExecerContext      = (*sqlConn)(nil)
	_ driver.QueryerContext     = (*sqlConn)(nil)
	_ driver.Pinger             = (*sqlConn)(nil)
	_ driver.SessionResetter    = (*sqlConn)(nil)
	_ driver.Validator          = (*sqlConn)(nil)
	_ driver.NamedValueChecker  = (*sqlConn)(nil)
)

// Unwrap returns the driver's own connection (for sql.Conn.Raw users).
func (c *sqlConn) Unwrap() driver.Conn { return c.c }

// Prepare prepares a statement.
func (c *sqlConn) Prepare(query string) (driver.Stmt, error) {
	c.st.touch()
	s, err := c.c.Prepare(query)
	if err != nil {
		return nil, err
	}
	return &sqlStmt{s: s, conn: c, query: truncateQuery(query)}, nil
}

// PrepareContext prepares a statement.
func (c *sqlConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	c.st.t.noDeadline(ctx, model.CallSQL, c.st.pool, query, nil, 0)
	c.st.touch()
	var s driver.Stmt
	var err error
	if pc, ok := c.c.(driver.ConnPrepareContext); ok {
		s, err = pc.PrepareContext(ctx, query)
	} else {
		s, err = c.c.Prepare(query)
		if err == nil && ctx.Err() != nil {
			s.Close()
			return nil, ctx.Err()
		}
	}
	if err != nil {
		return nil, err
	}
	return &sqlStmt{s: s, conn: c, query: truncateQuery(query)}, nil
}

// Close closes the connection and ends tracking.
func (c *sqlConn) Close() error {
	c.st.t.finish(c.st)
	return c.c.Close()
}

// Begin starts a transaction.
func (c *sqlConn) Begin() (driver.Tx, error) {
	tx, err := c.c.Begin()
	if err != nil {
		return nil, err
	}
	return c.wrapTx(tx), nil
}

// BeginTx starts a transaction.
func (c *sqlConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	c.st.t.noDeadline(ctx, model.CallSQL, c.st.pool, "BEGIN", nil, 0)
	c.st.touch()
	var tx driver.Tx
	var err error
	if bt, ok := c.c.(driver.ConnBeginTx); ok {
		tx, err = bt.BeginTx(ctx, opts)
	} else {
		switch {
		case opts.Isolation != driver.IsolationLevel(sql.LevelDefault):
			return nil, errors.New("sql: driver does not support non-default isolation level")
		case opts.ReadOnly:
			return nil, errors.New("sql: driver does not support read-only transactions")
		}
		tx, err = c.c.Begin()
		if err == nil && ctx.Err() != nil {
			tx.Rollback()
			return nil, ctx.Err()
		}
	}
	if err != nil {
		return nil, err
	}
	return c.wrapTx(tx), nil
}

func (c *sqlConn) wrapTx(tx driver.Tx) driver.Tx {
	// This package's frames are dropped when the stack is resolved.
	st := c.st.t.begin(kindSQLTx, 1, c.st.pool, nil, nil, "")
	w := &sqlTx{tx: tx, st: st}
	watch(w, st)
	return w
}

// ExecContext runs a statement without rows.
func (c *sqlConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	c.st.t.noDeadline(ctx, model.CallSQL, c.st.pool, query, nil, 0)
	c.st.touch()
	if ec, ok := c.c.(driver.ExecerContext); ok {
		return ec.ExecContext(ctx, query, args)
	}
	if e, ok := c.c.(driver.Execer); ok {
		vals, err := namedToValues(args)
		if err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return e.Exec(query, vals)
	}
	return nil, driver.ErrSkip
}

// QueryContext runs a query and tracks its rows.
func (c *sqlConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	c.st.t.noDeadline(ctx, model.CallSQL, c.st.pool, query, nil, 0)
	c.st.touch()
	var rows driver.Rows
	var err error
	if qc, ok := c.c.(driver.QueryerContext); ok {
		rows, err = qc.QueryContext(ctx, query, args)
	} else if q, ok := c.c.(driver.Queryer); ok {
		vals, verr := namedToValues(args)
		if verr != nil {
			return nil, verr
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rows, err = q.Query(query, vals)
	} else {
		return nil, driver.ErrSkip
	}
	if err != nil {
		return nil, err
	}
	return c.wrapRows(rows), nil
}

func (c *sqlConn) wrapRows(rows driver.Rows) driver.Rows {
	st := c.st.t.begin(kindSQLRows, 1, c.st.pool, nil, nil, "")
	w := &sqlRows{r: rows, st: st, conn: c.st}
	watch(w, st)
	return w
}

// Ping checks the connection; a driver without Pinger is taken as alive.
func (c *sqlConn) Ping(ctx context.Context) error {
	if p, ok := c.c.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

// ResetSession resets the session before reuse where the driver can.
func (c *sqlConn) ResetSession(ctx context.Context) error {
	if r, ok := c.c.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

// IsValid reports whether the connection may be reused.
func (c *sqlConn) IsValid() bool {
	if v, ok := c.c.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

// CheckNamedValue lets the driver convert arguments; driver.ErrSkip makes
// database/sql use its default conversion.
func (c *sqlConn) CheckNamedValue(nv *driver.NamedValue) error {
	if n, ok := c.c.(driver.NamedValueChecker); ok {
		return n.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

func namedToValues(named []driver.NamedValue) ([]driver.Value, error) {
	vals := make([]driver.Value, len(named))
	for i, nv := range named {
		if nv.Name != "" {
			return nil, errors.New("sql: driver does not support the use of Named Parameters")
		}
		vals[i] = nv.Value
	}
	return vals, nil
}

// sqlStmt wraps a prepared statement so that its rows are tracked.
type sqlStmt struct {
	s    driver.Stmt
	conn *sqlConn
	// query tells the statement's calls without a deadline apart.
	query string
}

var (
	_ driver.StmtExecContext   = (*sqlStmt)(nil)
	_ driver.StmtQueryContext  = (*sqlStmt)(nil)
	_ driver.NamedValueChecker = (*sqlStmt)(nil)
)

// Close closes the statement.
func (s *sqlStmt) Close() error { return s.s.Close() }

// NumInput returns the number of placeholders.
func (s *sqlStmt) NumInput() int { return s.s.NumInput() }

// Exec runs the statement.
func (s *sqlStmt) Exec(args []driver.Value) (driver.Result, error) {
	s.conn.st.touch()
	return s.s.Exec(args)
}

// Query runs the statement and tracks its rows.
func (s *sqlStmt) Query(args []driver.Value) (driver.Rows, error) {
	s.conn.st.touch()
	rows, err := s.s.Query(args)
	if err != nil {
		return nil, err
	}
	return s.conn.wrapRows(rows), nil
}

// ExecContext runs the statement.
func (s *sqlStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.conn.st.t.noDeadline(ctx, model.CallSQL, s.conn.st.pool, s.query, nil, 0)
	s.conn.st.touch()
	if ec, ok := s.s.(driver.StmtExecContext); ok {
		return ec.ExecContext(ctx, args)
	}
	vals, err := namedToValues(args)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.s.Exec(vals)
}

// QueryContext runs the statement and tracks its rows.
func (s *sqlStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.conn.st.t.noDeadline(ctx, model.CallSQL, s.conn.st.pool, s.query, nil, 0)
	s.conn.st.touch()
	var rows driver.Rows
	if qc, ok := s.s.(driver.StmtQueryContext); ok {
		r, err := qc.QueryContext(ctx, args)
		if err != nil {
			return nil, err
		}
		rows = r
	} else {
		vals, err := namedToValues(args)
		if err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r, err := s.s.Query(vals)
		if err != nil {
			return nil, err
		}
		rows = r
	}
	return s.conn.wrapRows(rows), nil
}

// CheckNamedValue defers to the statement's checker, then the
// connection's, as database/sql does.
func (s *sqlStmt) CheckNamedValue(nv *driver.NamedValue) error {
	if n, ok := s.s.(driver.NamedValueChecker); ok {
		return n.CheckNamedValue(nv)
	}
	return s.conn.CheckNamedValue(nv)
}

// sqlTx is a transaction tracked until Commit or Rollback.
type sqlTx struct {
	tx driver.Tx
	st *connState
}

// Commit commits and ends tracking.
func (x *sqlTx) Commit() error {
	x.st.t.finish(x.st)
	return x.tx.Commit()
}

// Rollback rolls back and ends tracking.
func (x *sqlTx) Rollback() error {
	x.st.t.finish(x.st)
	return x.tx.Rollback()
}

// sqlRows is a result set tracked until Close. It implements the optional
// column-type interfaces with database/sql's own defaults where the
// driver lacks them.
type sqlRows struct {
	r    driver.Rows
	st   *connState
	conn *connState
}

var (
	_ driver.RowsNextResultSet              = (*sqlRows)(nil)
	_ driver.RowsColumnTypeScanType         = (*sqlRows)(nil)
	_ driver.RowsColumnTypeDatabaseTypeName = (*sqlRows)(nil)
	_ driver.RowsColumnTypeLength           = (*sqlRows)(nil)
	_ driver.RowsColumnTypeNullable         = (*sqlRows)(nil)
	_ driver.RowsColumnTypePrecisionScale   = (*sqlRows)(nil)
)

// Columns returns the column names.
func (r *sqlRows) Columns() []string { return r.r.Columns() }

// Close closes the result set and ends tracking.
func (r *sqlRows) Close() error {
	r.st.t.finish(r.st)
	return r.r.Close()
}

// Next reads the next row.
func (r *sqlRows) Next(dest []driver.Value) error {
	err := r.r.Next(dest)
	if err == nil {
		r.st.touch()
		r.conn.touch()
	}
	return err
}

// HasNextResultSet reports whether another result set follows.
func (r *sqlRows) HasNextResultSet() bool {
	if n, ok := r.r.(driver.RowsNextResultSet); ok {
		return n.HasNextResultSet()
	}
	return false
}

// NextResultSet advances to the next result set.
func (r *sqlRows) NextResultSet() error {
	if n, ok := r.r.(driver.RowsNextResultSet); ok {
		return n.NextResultSet()
	}
	return io.EOF
}

// ColumnTypeScanType returns the Go type a column scans into.
func (r *sqlRows) ColumnTypeScanType(index int) reflect.Type {
	if c, ok := r.r.(driver.RowsColumnTypeScanType); ok {
		return c.ColumnTypeScanType(index)
	}
	return reflect.TypeFor[any]()
}

// ColumnTypeDatabaseTypeName returns the database type name of a column.
func (r *sqlRows) ColumnTypeDatabaseTypeName(index int) string {
	if c, ok := r.r.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return c.ColumnTypeDatabaseTypeName(index)
	}
	return ""
}

// ColumnTypeLength returns a column's length where it has one.
func (r *sqlRows) ColumnTypeLength(index int) (int64, bool) {
	if c, ok := r.r.(driver.RowsColumnTypeLength); ok {
		return c.ColumnTypeLength(index)
	}
	return 0, false
}

// ColumnTypeNullable reports whether a column may be null.
func (r *sqlRows) ColumnTypeNullable(index int) (bool, bool) {
	if c, ok := r.r.(driver.RowsColumnTypeNullable); ok {
		return c.ColumnTypeNullable(index)
	}
	return false, false
}

// ColumnTypePrecisionScale returns a decimal column's precision and scale.
func (r *sqlRows) ColumnTypePrecisionScale(index int) (int64, int64, bool) {
	if c, ok := r.r.(driver.RowsColumnTypePrecisionScale); ok {
		return c.ColumnTypePrecisionScale(index)
	}
	return 0, 0, false
}

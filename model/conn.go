package model

import "time"

// Connection kinds.
const (
	ConnServer   = "server"    // accepted by a wrapped net.Listener
	ConnClient   = "client"    // dialled by a wrapped dialer
	ConnHTTPBody = "http-body" // an http.Response body not yet closed
	ConnSQL      = "sql"       // a database/sql driver connection
	// ConnSQLRows is a database/sql result set (driver rows) not yet
	// closed; it holds its pool connection until it is.
	ConnSQLRows = "sql-rows"
	// ConnSQLTx is a database/sql transaction neither committed nor
	// rolled back; it holds its pool connection until it is.
	ConnSQLTx = "sql-tx"
)

// ConnKinds lists every connection kind, in a fixed order.
func ConnKinds() []string {
	return []string{ConnServer, ConnClient, ConnHTTPBody, ConnSQL, ConnSQLRows, ConnSQLTx}
}

// Conn is one tracked connection (or response body).
type Conn struct {
	ID     uint64 `json:"id"`
	Kind   string `json:"kind"`
	Local  string `json:"local,omitempty"`
	Remote string `json:"remote,omitempty"`
	// OpenSite is the innermost user frame of the call that opened it;
	// OpenStack the bounded stack it was captured from.
	OpenSite  Frame     `json:"open_site,omitzero"`
	OpenStack []Frame   `json:"open_stack,omitempty"`
	Opened    time.Time `json:"opened"`
	// LastIO is the time of the last read or write (Opened if none).
	LastIO      time.Time `json:"last_io"`
	AgeSeconds  float64   `json:"age_seconds"`
	IdleSeconds float64   `json:"idle_seconds"`
	BytesIn     int64     `json:"bytes_in"`
	BytesOut    int64     `json:"bytes_out"`
	// Leaked is true when the wrapper became unreachable while still
	// open: a certain leak.
	Leaked bool `json:"leaked,omitempty"`
	// Group is the key of the goroutine group that holds it, where known.
	Group string `json:"group,omitempty"`
	// Pool names the pool the connection, rows or transaction belong to
	// (kinds sql, sql-rows and sql-tx).
	Pool string `json:"pool,omitempty"`
	// LeakedAt is when a definite leak was found (the garbage collector
	// ran the wrapper's cleanup); zero unless Leaked.
	LeakedAt time.Time `json:"leaked_at,omitzero"`
	// SiteLeaksTotal is, on entries of Connections.Leaks, how many
	// definite leaks of this kind the same opening stack has had since the
	// start; this entry is the most recent of them.
	SiteLeaksTotal int64 `json:"site_leaks_total,omitempty"`
}

// Pool is a connection pool, such as a database/sql DB.
type Pool struct {
	Name                   string  `json:"name"`
	Kind                   string  `json:"kind"`
	MaxOpen                int     `json:"max_open"`
	Open                   int     `json:"open"`
	InUse                  int     `json:"in_use"`
	Idle                   int     `json:"idle"`
	WaitCountTotal         int64   `json:"wait_count_total"`
	WaitSecondsTotal       float64 `json:"wait_seconds_total"`
	MaxIdleClosedTotal     int64   `json:"max_idle_closed_total"`
	MaxLifetimeClosedTotal int64   `json:"max_lifetime_closed_total"`
}

// Connections is the connection and pool state of the process.
type Connections struct {
	// Open are the open tracked connections, oldest first, bounded (the
	// tracker caps each kind's share, so many old connections of one kind
	// cannot hide the others).
	Open []Conn `json:"open,omitempty"`
	// OpenByKind counts all open tracked connections per kind.
	OpenByKind map[string]int `json:"open_by_kind,omitempty"`
	// LeakedTotal counts definite leaks per kind since the start.
	LeakedTotal map[string]int64 `json:"leaked_total,omitempty"`
	// Leaks are the most recent definite leaks, newest last, bounded:
	// one entry per kind and opening stack (the latest leak there, with
	// SiteLeaksTotal counting them all), so a busy site cannot push a
	// rare one out.
	Leaks []Conn `json:"leaks,omitempty"`
	// OpenTotal counts open tracked connections of all kinds; Open may be
	// shorter (Truncated).
	OpenTotal int `json:"open_total,omitempty"`
	// Truncated is true when Open was cut to its bound.
	Truncated bool   `json:"truncated,omitempty"`
	Pools     []Pool `json:"pools,omitempty"`
}

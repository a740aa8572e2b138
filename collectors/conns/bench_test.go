package conns_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/collectors/conns"
	"github.com/asyncmon/asyncmon/model"
	"modernc.org/sqlite"
)

// The benchmarks compare each wrapper with the bare thing it wraps:
// sub-benchmark "raw" is without asyncmon, "tracked" with it. docs/perf.md
// has the figures and the command.

// nopConn is a connection whose reads and writes cost nothing, so that the
// wrapper's own cost per call stands out.
type nopConn struct{ net.Conn }

func (nopConn) Read(b []byte) (int, error)  { return len(b), nil }
func (nopConn) Write(b []byte) (int, error) { return len(b), nil }
func (nopConn) Close() error                { return nil }
func (nopConn) LocalAddr() net.Addr         { return &net.TCPAddr{} }
func (nopConn) RemoteAddr() net.Addr        { return &net.TCPAddr{} }

// BenchmarkConnCall is the wrapper's cost per Read and Write call.
func BenchmarkConnCall(b *testing.B) {
	tr := conns.NewTracker(conns.Options{})
	for _, tc := range []struct {
		name string
		c    net.Conn
	}{
		{"raw", nopConn{}},
		{"tracked", tr.WrapConn(nopConn{}, model.ConnClient)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			buf := make([]byte, 512)
			b.ReportAllocs()
			for b.Loop() {
				tc.c.Read(buf)
				tc.c.Write(buf)
			}
		})
	}
}

// loopbackPair returns both ends of a loopback TCP connection.
func loopbackPair(b *testing.B) (client, server net.Conn) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		b.Fatal("accept failed")
	}
	return client, server
}

// BenchmarkConnReadWrite sends 512 bytes over loopback TCP and reads them
// back, both ends tracked or not.
func BenchmarkConnReadWrite(b *testing.B) {
	for _, tracked := range []bool{false, true} {
		b.Run(map[bool]string{false: "raw", true: "tracked"}[tracked], func(b *testing.B) {
			c, s := loopbackPair(b)
			if tracked {
				tr := conns.NewTracker(conns.Options{})
				c, s = tr.WrapConn(c, model.ConnClient), tr.WrapConn(s, model.ConnServer)
			}
			defer c.Close()
			defer s.Close()
			buf := make([]byte, 512)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Write(buf); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(s, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDialClose dials a loopback listener and closes the connection;
// the tracked case wraps both the dialer and the listener.
func BenchmarkDialClose(b *testing.B) {
	for _, tracked := range []bool{false, true} {
		b.Run(map[bool]string{false: "raw", true: "tracked"}[tracked], func(b *testing.B) {
			tr := conns.NewTracker(conns.Options{})
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			var d net.Dialer
			dial := d.DialContext
			if tracked {
				ln = tr.WrapListener(ln)
				dial = tr.WrapDialer(d.DialContext)
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					c.Close()
				}
			}()
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				c, err := dial(ctx, "tcp", ln.Addr().String())
				if err != nil {
					b.Fatal(err)
				}
				c.Close()
			}
			ln.Close()
			<-done
		})
	}
}

// BenchmarkHTTPGet is a keep-alive GET of a 1 KiB body, read and closed:
// raw, tracked without a deadline (counted at its call site), and tracked
// through a client with a Timeout (the common case).
func BenchmarkHTTPGet(b *testing.B) {
	body := make([]byte, 1024)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }))
	defer srv.Close()
	for _, mode := range []string{"raw", "tracked", "tracked-timeout"} {
		b.Run(mode, func(b *testing.B) {
			var rt http.RoundTripper = http.DefaultTransport.(*http.Transport).Clone()
			if mode != "raw" {
				rt = conns.NewTracker(conns.Options{}).HTTPTransport(nil)
			}
			client := &http.Client{Transport: rt}
			if mode == "tracked-timeout" {
				client.Timeout = time.Minute
			}
			defer client.CloseIdleConnections()
			b.ReportAllocs()
			for b.Loop() {
				resp, err := client.Get(srv.URL)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}

// BenchmarkSQLQuery runs a one-row query on an in-memory SQLite and closes
// the rows: raw, tracked without a deadline (counted, its stack walked
// for one call in 16), and tracked with a deadline.
func BenchmarkSQLQuery(b *testing.B) {
	for _, mode := range []string{"raw", "tracked", "tracked-deadline"} {
		b.Run(mode, func(b *testing.B) {
			dsn := fmt.Sprintf("file:bench-%d?mode=memory&cache=shared", time.Now().UnixNano())
			var db *sql.DB
			if mode != "raw" {
				tr := conns.NewTracker(conns.Options{})
				db = tr.OpenDB("bench", tr.WrapDriver("bench", &sqlite.Driver{}, dsn))
			} else {
				db = sql.OpenDB(sqliteConnector{dsn})
			}
			defer db.Close()
			ctx := context.Background()
			if mode == "tracked-deadline" {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, time.Hour)
				defer cancel()
			}
			b.ReportAllocs()
			for b.Loop() {
				rows, err := db.QueryContext(ctx, "SELECT 1")
				if err != nil {
					b.Fatal(err)
				}
				for rows.Next() {
				}
				rows.Close()
			}
		})
	}
}

type sqliteConnector struct{ dsn string }

func (c sqliteConnector) Connect(context.Context) (driver.Conn, error) {
	return (&sqlite.Driver{}).Open(c.dsn)
}
func (c sqliteConnector) Driver() driver.Driver { return &sqlite.Driver{} }

// BenchmarkConnTrackerCollect is one snapshot of a tracker holding 1,000 open
// connections from 10 sites (256 listed).
func BenchmarkConnTrackerCollect(b *testing.B) {
	tr := conns.NewTracker(conns.Options{})
	var conns []net.Conn
	for i := range 1000 {
		conns = append(conns, openAt(tr, i%10))
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		var s model.Snapshot
		if err := tr.Collect(ctx, &s); err != nil {
			b.Fatal(err)
		}
	}
}

// openAt opens a tracked connection from one of ten call sites.
func openAt(tr *conns.Tracker, site int) net.Conn {
	switch site {
	case 0:
		return tr.WrapConn(nopConn{}, model.ConnClient)
	case 1:
		return tr.WrapConn(nopConn{}, model.ConnClient)
	case 2:
		return tr.WrapConn(nopConn{}, model.ConnClient)
	case 3:
		return tr.WrapConn(nopConn{}, model.ConnClient)
	case 4:
		return tr.WrapConn(nopConn{}, model.ConnClient)
	case 5:
		return tr.WrapConn(nopConn{}, model.ConnServer)
	case 6:
		return tr.WrapConn(nopConn{}, model.ConnServer)
	case 7:
		return tr.WrapConn(nopConn{}, model.ConnServer)
	case 8:
		return tr.WrapConn(nopConn{}, model.ConnServer)
	}
	return tr.WrapConn(nopConn{}, model.ConnServer)
}

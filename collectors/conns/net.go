package conns

import (
	"context"
	"errors"
	"io"
	"net"
	"runtime"
)

// WrapListener returns l with every accepted connection tracked (kind
// "server") until it is closed:
//
//	srv.Serve(tracker.WrapListener(ln))
func (t *Tracker) WrapListener(l net.Listener) net.Listener {
	return &trackedListener{Listener: l, t: t}
}

type trackedListener struct {
	net.Listener
	t *Tracker
}

// Accept waits for the next connection and returns it tracked.
func (l *trackedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	// Skip Accept itself: the opening site is whoever accepts.
	return l.t.wrapConn(c, kindServer, 1), nil
}

// DialFunc is the signature of [net.Dialer.DialContext] and of
// http.Transport's DialContext field.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// WrapDialer returns dial with every connection it makes tracked (kind
// "client") until it is closed. A nil dial uses a zero [net.Dialer]:
//
//	conn, err := tracker.WrapDialer(nil)(ctx, "tcp", addr)
func (t *Tracker) WrapDialer(dial DialFunc) DialFunc {
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		// A tracked transport's dial: the opening site is the user's
		// call that made the request, not the dialling goroutine.
		if cs := callSiteFrom(ctx); cs != nil {
			return t.wrapConnAt(c, kindClient, &cs.pcs), nil
		}
		// Skip this closure: the opening site is the dialer's caller.
		return t.wrapConn(c, kindClient, 1), nil
	}
}

// WrapConn tracks an already open connection as kind ("server" or
// "client"); other kinds are tracked as "client". The opening site is
// WrapConn's caller.
func (t *Tracker) WrapConn(c net.Conn, kind string) net.Conn {
	k := kindClient
	if kind == "server" {
		k = kindServer
	}
	return t.wrapConn(c, k, 1)
}

// wrapConn registers c. skip counts the frames above wrapConn's caller to
// leave out of the opening stack.
func (t *Tracker) wrapConn(c net.Conn, kind connKind, skip int) net.Conn {
	var pcs [maxStack]uintptr
	// runtime.Callers counts itself as 0 and wrapConn as 1.
	runtime.Callers(skip+2, pcs[:])
	return t.wrapConnAt(c, kind, &pcs)
}

// wrapConnAt registers c with its opening stack already walked.
func (t *Tracker) wrapConnAt(c net.Conn, kind connKind, pcs *[maxStack]uintptr) net.Conn {
	st := t.beginAt(kind, pcs, "", c.LocalAddr(), c.RemoteAddr(), "")
	w := &trackedConn{Conn: c, st: st}
	watch(w, st)
	return w
}

// trackedConn is a net.Conn counting its bytes and watching for leaks.
type trackedConn struct {
	net.Conn
	st *connState
}

// Read reads from the connection and counts the bytes.
func (c *trackedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.st.in.Add(int64(n))
		c.st.touch()
	}
	return n, err
}

// Write writes to the connection and counts the bytes.
func (c *trackedConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if n > 0 {
		c.st.out.Add(int64(n))
		c.st.touch()
	}
	return n, err
}

// Close closes the connection and stops tracking it.
func (c *trackedConn) Close() error {
	c.st.t.finish(c.st)
	return c.Conn.Close()
}

// errNoCloseWrite is returned by CloseWrite when the wrapped connection
// has no write half to close.
var errNoCloseWrite = errors.New("asyncmon: wrapped connection does not support CloseWrite")

// CloseWrite shuts down the writing side where the wrapped connection
// supports it (net/http's server uses it for a graceful close).
func (c *trackedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errNoCloseWrite
}

// ReadFrom keeps the wrapped connection's sendfile/splice path (used by
// net/http for files) and counts the bytes.
func (c *trackedConn) ReadFrom(r io.Reader) (int64, error) {
	var n int64
	var err error
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(struct{ io.Writer }{c.Conn}, r)
	}
	if n > 0 {
		c.st.out.Add(n)
		c.st.touch()
	}
	return n, err
}

// NetConn returns the wrapped connection, like [crypto/tls.Conn.NetConn].
func (c *trackedConn) NetConn() net.Conn { return c.Conn }

package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/asyncmon/asyncmon/agent/internal/limits"
)

// Access control
//
// The API serves goroutine stacks, heap profiles and traces, which reveal
// memory contents, and some endpoints cost CPU or stop the world. So:
//
//   - it listens on loopback by default, or on a Unix socket (Addr
//     "unix:/path", created 0600; on Linux each connection's peer must
//     be this process's user or root);
//   - with Options.Token (or TokenFile) every endpoint but /healthz wants
//     "Authorization: Bearer <token>", compared in constant time;
//   - a TCP bind beyond loopback without a token (or TLS client
//     certificates) refuses to start;
//   - Options.TLSConfig serves the whole API over TLS, with client
//     certificate auth when its ClientAuth asks for it.
//
// docs/security.md has the threat model and the tests behind each promise.

// ErrTokenRequired is returned by Listen for a TCP address beyond
// loopback without credentials; package agent exports it as
// agent.ErrTokenRequired.
var ErrTokenRequired = errors.New("asyncmon: refusing to serve beyond loopback without a token")

// tokenRequiredError is ErrTokenRequired for one address, saying how to
// fix it.
type tokenRequiredError struct{ addr string }

func (e tokenRequiredError) Error() string {
	return fmt.Sprintf("asyncmon: refusing to serve on %s without a token: set Options.Token (ASYNCMON_TOKEN / --token-file) or bind to 127.0.0.1 or unix:/path", e.addr)
}

func (e tokenRequiredError) Is(target error) bool { return target == ErrTokenRequired }

// UnixPrefix marks a Unix socket address: "unix:/run/svc/asyncmon.sock".
const UnixPrefix = "unix:"

// maxBodyBytes bounds a request body: the API is read-only, and the one
// endpoint that reads a body (POST /debug/pprof/symbol) needs a few
// kilobytes of addresses.
const maxBodyBytes = 64 << 10

// Listen binds the API listener for addr: a Unix socket for "unix:/path",
// else TCP. A TCP listener beyond loopback needs credentials (authed),
// else it fails with ErrTokenRequired. A Unix socket counts the peers it
// refuses in cnt and logs them to log.
func Listen(ctx context.Context, addr string, authed bool, cnt *limits.Counters, log *slog.Logger) (net.Listener, error) {
	if path, ok := strings.CutPrefix(addr, UnixPrefix); ok {
		return listenUnix(ctx, path, cnt, log)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("asyncmon: listen on %s: %w", addr, err)
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() && !authed {
		ln.Close()
		return nil, tokenRequiredError{addr}
	}
	return ln, nil
}

// listenUnix binds a Unix socket at path, mode 0600. A socket left by a
// process that is gone is replaced; a live one, or a file that is not a
// socket, is an error.
func listenUnix(ctx context.Context, path string, cnt *limits.Counters, log *slog.Logger) (net.Listener, error) {
	if path == "" {
		return nil, errors.New("asyncmon: listen: empty Unix socket path (want unix:/path)")
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("asyncmon: listen on %s%s: the file exists and is not a socket", UnixPrefix, path)
		}
		d := net.Dialer{Timeout: time.Second}
		if c, err := d.DialContext(ctx, "unix", path); err == nil {
			c.Close()
			return nil, fmt.Errorf("asyncmon: listen on %s%s: another process serves on it", UnixPrefix, path)
		}
		os.Remove(path) // stale, from a process that did not close
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("asyncmon: listen on %s%s: %w", UnixPrefix, path, err)
	}
	// Between bind and chmod the socket has the umask's mode; the peer
	// check below closes that window where the platform allows it.
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("asyncmon: listen on %s%s: %w", UnixPrefix, path, err)
	}
	return &peerListener{Listener: ln, cnt: cnt, log: log}, nil
}

// peerListener accepts only connections whose peer is this process's user
// or root, where the platform tells (peerUID); others are closed at once
// and counted.
type peerListener struct {
	net.Listener
	cnt *limits.Counters
	log *slog.Logger
}

func (l *peerListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		uid, known := peerUID(c)
		if !known || uid == os.Getuid() || uid == 0 {
			return c, nil
		}
		l.cnt.Deny(limits.DeniedPeer)
		l.log.Warn("connection refused: peer is another user", "uid", uid)
		c.Close()
	}
}

// authorize wraps the API with the access checks every request passes:
// a bounded body, then the token on every path but /healthz.
func (a *API) authorize(next http.Handler) http.Handler {
	if a.token == nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
			next.ServeHTTP(w, r)
		})
	}
	want := sha256.Sum256(a.token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		if r.URL.Path == "/healthz" {
			next.ServeHTTP(w, r)
			return
		}
		got, ok := bearer(r.Header.Get("Authorization"))
		if !ok {
			a.cnt.Deny(limits.DeniedNoToken)
			w.Header().Set("WWW-Authenticate", `Bearer realm="asyncmon"`)
			writeError(w, http.StatusUnauthorized, "this agent wants a token: send Authorization: Bearer <token>")
			return
		}
		// Comparing digests keeps the comparison constant-time in the
		// token's length too.
		sum := sha256.Sum256([]byte(got))
		if subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			a.cnt.Deny(limits.DeniedWrongToken)
			w.Header().Set("WWW-Authenticate", `Bearer realm="asyncmon", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "wrong token")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// bearer returns the token of an "Authorization: Bearer <token>" header.
func bearer(h string) (string, bool) {
	const scheme = "bearer "
	if len(h) <= len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) {
		return "", false
	}
	tok := strings.TrimSpace(h[len(scheme):])
	return tok, tok != ""
}

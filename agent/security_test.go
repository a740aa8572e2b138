//go:build unix

package agent

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/agent/client"
	"github.com/asyncmon/asyncmon/agent/internal/api"
	"github.com/asyncmon/asyncmon/findings"
	"github.com/asyncmon/asyncmon/internal/broker"
	"github.com/asyncmon/asyncmon/model"
)

// syncBuffer is a log sink safe for the agent's goroutines.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// probePath turns a route pattern into a request path that reaches it,
// with parameters that keep the expensive endpoints short.
func probePath(pattern string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	path = strings.ReplaceAll(path, "{id}", "no-such-capture")
	switch path {
	case "/debug/pprof/":
		path += "heap"
	case "/debug/pprof/profile", "/debug/fgprof", "/debug/pprof/trace":
		path += "?seconds=1"
	}
	return method, path
}

// TestEveryEndpointWantsToken walks every endpoint the handler mounts, so
// a new endpoint cannot slip by: without a token and with a wrong one it
// answers 401 (only /healthz answers), with the token it serves. The token
// shows in no log line, no answer and no client error.
func TestEveryEndpointWantsToken(t *testing.T) {
	const token = "tok-0123456789-secret"
	var logs syncBuffer
	a := start(t, Options{Interval: 50 * time.Millisecond, Token: token,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	base := "http://" + a.Addr()
	routes := a.api.Endpoints()
	if len(routes) < 15 {
		t.Fatalf("only %d endpoints: the walk would miss some", len(routes))
	}
	var answers strings.Builder
	do := func(method, path, auth string) (int, http.Header) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, method, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		if path != "/api/v1/stream" || resp.StatusCode != http.StatusOK {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			answers.Write(body)
		}
		return resp.StatusCode, resp.Header
	}
	for _, r := range routes {
		method, path := probePath(r.Pattern)
		t.Run(r.Pattern, func(t *testing.T) {
			for _, auth := range []string{"", "Bearer wrong-token", "Basic " + token, "Bearer " + token + "x"} {
				code, h := do(method, path, auth)
				if path == "/healthz" {
					if code != http.StatusOK {
						t.Errorf("/healthz with %q: %d, want 200 (liveness needs no token)", auth, code)
					}
					continue
				}
				if code != http.StatusUnauthorized || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("%s %s with Authorization %q: %d (WWW-Authenticate %q), want 401", method, path, auth, code, h.Get("WWW-Authenticate"))
				}
			}
			code, _ := do(method, path, "Bearer "+token)
			if code == http.StatusUnauthorized || code >= 500 {
				t.Errorf("%s %s with the token: %d, want served", method, path, code)
			}
		})
	}
	// Through the client: a missing token and a wrong one read plainly,
	// and the error never carries the token.
	c, _ := client.New(a.Addr())
	if _, err := c.Snapshot(context.Background()); !errors.Is(err, client.ErrTokenRequired) {
		t.Errorf("client without token: %v, want ErrTokenRequired", err)
	}
	c, _ = client.New(a.Addr(), client.WithToken(token+"-wrong"))
	_, err := c.Snapshot(context.Background())
	if !errors.Is(err, client.ErrTokenRejected) {
		t.Errorf("client with a wrong token: %v, want ErrTokenRejected", err)
	}
	if err != nil && strings.Contains(err.Error(), token) {
		t.Errorf("client error shows the token: %v", err)
	}
	c, _ = client.New(a.Addr(), client.WithToken(token))
	if _, err := c.Snapshot(context.Background()); err != nil {
		t.Errorf("client with the token: %v", err)
	}
	st := a.status()
	if st.Denied[DeniedNoToken] == 0 || st.Denied[DeniedWrongToken] == 0 {
		t.Errorf("denials not counted: %+v", st.Denied)
	}
	if strings.Contains(logs.String(), token) {
		t.Error("the token shows in the agent's logs")
	}
	if strings.Contains(answers.String(), token) {
		t.Error("the token shows in an answer")
	}
}

// TestNonLoopbackBindNeedsCredentials: a TCP bind beyond loopback without
// a token refuses to start, naming the fix; with one it serves.
func TestNonLoopbackBindNeedsCredentials(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0"} {
		a, err := Start(context.Background(), Options{Addr: addr})
		if err == nil {
			a.Close()
			t.Errorf("Start on %s without a token succeeded", addr)
			continue
		}
		if !errors.Is(err, ErrTokenRequired) {
			t.Errorf("Start on %s: %v, want ErrTokenRequired", addr, err)
		}
		for _, fix := range []string{"Options.Token", "ASYNCMON_TOKEN", "127.0.0.1", "unix:/path"} {
			if !strings.Contains(err.Error(), fix) {
				t.Errorf("Start on %s: %q does not name the fix %q", addr, err, fix)
			}
		}
	}
	a := start(t, Options{Addr: "0.0.0.0:0", Token: "t"})
	if _, port, err := net.SplitHostPort(a.Addr()); err != nil || port == "0" {
		t.Errorf("Addr() = %q, want the bound address", a.Addr())
	}
	for _, bad := range []Options{
		{Token: "a", TokenFile: "f"},
		{TokenFile: filepath.Join(t.TempDir(), "missing")},
	} {
		if a, err := Start(context.Background(), bad); err == nil {
			a.Close()
			t.Errorf("Start(%+v) succeeded", bad)
		}
	}
}

func TestTokenFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	if err := os.WriteFile(file, []byte("  from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := start(t, Options{TokenFile: file})
	c, _ := client.New(a.Addr(), client.WithToken("from-file"))
	if _, err := c.Snapshot(context.Background()); err != nil {
		t.Errorf("token from file (white space trimmed): %v", err)
	}
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	if a, err := Start(context.Background(), Options{Addr: "127.0.0.1:0", TokenFile: empty}); err == nil {
		a.Close()
		t.Error("an empty token file was accepted")
	}
}

// TestUnixSocket: unix:/path serves with mode 0600 and this user as
// owner, replaces a stale socket, refuses a live one, and is removed on
// Close.
func TestUnixSocket(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	path := filepath.Join(t.TempDir(), "agent.sock")
	// A stale socket, left by a process that did not close.
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()

	a, err := Start(context.Background(), Options{Addr: "unix:" + path, Interval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want srw-------", fi.Mode())
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); !ok || int(st.Uid) != os.Getuid() {
		t.Errorf("socket owner: %+v, want uid %d", fi.Sys(), os.Getuid())
	}
	if a.Addr() != "unix:"+path {
		t.Errorf("Addr() = %q, want unix:%s", a.Addr(), path)
	}
	c, err := client.New(a.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if s, err := c.Snapshot(context.Background()); err != nil || s.Seq == 0 {
		t.Fatalf("snapshot over the socket: %v", err)
	}
	agents, err := client.Discover(context.Background())
	if err != nil || len(agents) != 1 || agents[0].Addr != "unix:"+path || agents[0].Err != "" {
		t.Errorf("Discover = %+v, %v; want the socket, healthy", agents, err)
	}
	if b, err := Start(context.Background(), Options{Addr: "unix:" + path}); err == nil {
		b.Close()
		t.Error("a second agent took over a live socket")
	} else if !strings.Contains(err.Error(), "another process") {
		t.Errorf("second agent on a live socket: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Errorf("socket left after Close: %v", err)
	}
	notSock := filepath.Join(t.TempDir(), "file")
	os.WriteFile(notSock, nil, 0o600)
	if b, err := Start(context.Background(), Options{Addr: "unix:" + notSock}); err == nil {
		b.Close()
		t.Error("a regular file was replaced by the socket")
	}
}

// TestUnixSocketRefusesOtherUsers connects as another user (nobody) to a
// socket whose mode was opened up: the peer check closes the connection
// and counts it. It needs root (to run as another user), Linux and curl.
func TestUnixSocketRefusesOtherUsers(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil || os.Getuid() != 0 || runtime.GOOS != "linux" {
		if os.Getenv("ASYNCMON_TEST_STRICT") != "" {
			t.Fatalf("needs root, Linux and curl: uid %d, curl %v", os.Getuid(), err)
		}
		t.Skipf("SKIP (loud): needs root, Linux and curl: uid %d, curl %v", os.Getuid(), err)
	}
	dir, err := os.MkdirTemp("", "asyncmon-peer-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o711)
	path := filepath.Join(dir, "agent.sock")
	a := start(t, Options{Addr: "unix:" + path, Interval: time.Hour})
	os.Chmod(path, 0o666) // as if someone loosened it: the peer check still holds
	cmd := exec.Command(curl, "-s", "-m", "5", "--unix-socket", path, "http://x/healthz")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Errorf("another user got an answer: %q", out)
	}
	if n := a.status().Denied[DeniedPeer]; n != 1 {
		t.Errorf("peer denials = %d, want 1", n)
	}
	// The owner still gets in.
	c, _ := client.New(a.Addr())
	if err := c.Health(context.Background()); err != nil {
		t.Errorf("owner refused: %v", err)
	}
}

// selfSigned returns a certificate for 127.0.0.1 signed by itself, usable
// as server, client and CA.
func selfSigned(t *testing.T, name string) (tls.Certificate, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, cert
}

// TestTLSWithClientCertificates: with client-certificate auth the whole
// API wants a certificate the agent trusts; that counts as credentials
// for a bind beyond loopback.
func TestTLSWithClientCertificates(t *testing.T) {
	srvCert, srvX := selfSigned(t, "agent")
	cliCert, cliX := selfSigned(t, "operator")
	_, strangerX := selfSigned(t, "stranger")
	_ = strangerX
	clientCAs := x509.NewCertPool()
	clientCAs.AddCert(cliX)
	a := start(t, Options{Addr: "0.0.0.0:0", Interval: 50 * time.Millisecond, TLSConfig: &tls.Config{
		Certificates: []tls.Certificate{srvCert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    clientCAs,
	}})
	_, port, _ := net.SplitHostPort(a.Addr())
	url := "https://127.0.0.1:" + port
	roots := x509.NewCertPool()
	roots.AddCert(srvX)

	c, _ := client.New(url, client.WithTLSConfig(&tls.Config{RootCAs: roots, Certificates: []tls.Certificate{cliCert}}))
	if _, err := c.Snapshot(context.Background()); err != nil {
		t.Fatalf("with a trusted client certificate: %v", err)
	}
	stranger, _ := selfSigned(t, "stranger")
	for name, cfg := range map[string]*tls.Config{
		"no certificate":        {RootCAs: roots},
		"untrusted certificate": {RootCAs: roots, Certificates: []tls.Certificate{stranger}},
	} {
		c, _ := client.New(url, client.WithTLSConfig(cfg))
		if err := c.Health(context.Background()); err == nil {
			t.Errorf("%s: served", name)
		}
	}
	if _, err := Start(context.Background(), Options{Addr: "127.0.0.1:0", TLSConfig: &tls.Config{}}); err == nil {
		t.Error("a TLSConfig without a certificate was accepted")
	}
}

// TestBadInputBeforeAnyDump: every parameter is checked before a full
// dump is taken, so bad input spends neither the stop-the-world nor the
// rate limit's allowance; durations are capped.
func TestBadInputBeforeAnyDump(t *testing.T) {
	a := start(t, Options{Interval: time.Hour})
	base := "http://" + a.Addr()
	for _, path := range []string{
		"/api/v1/goroutines?full=1&sort=bogus",
		"/api/v1/goroutines?full=1&order=up",
		"/api/v1/goroutines?full=1&limit=-1",
		"/api/v1/goroutines?full=1&wait_reason=nap",
		"/api/v1/goroutines?full=1&extra=1",
		"/debug/pprof/goroutine?debug=2&x=1",
		"/debug/pprof/goroutine?debug=7",
		"/debug/pprof/profile?seconds=100000",
		"/debug/pprof/profile?seconds=0",
		"/debug/pprof/profile?seconds=1e9",
		"/debug/pprof/trace?seconds=61",
		"/debug/pprof/trace?seconds=NaN",
		"/debug/fgprof?seconds=100000",
		"/debug/pprof/heap?seconds=100000",
		"/debug/pprof/heap?seconds=5&debug=1",
		"/debug/pprof/heap?gc=2",
	} {
		if code, body := get(t, base+path); code != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", path, code, body)
		}
	}
	if n := a.cnt.Dumps(); n != 0 {
		t.Fatalf("%d stop-the-world dumps taken for bad input, want 0", n)
	}
	// The allowance is intact: the first valid dump is served.
	if code, body := get(t, base+"/api/v1/goroutines?full=1&limit=1"); code != http.StatusOK {
		t.Fatalf("first valid full dump: %d %s", code, body)
	}
	resp, err := http.Get(base + "/api/v1/goroutines?full=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("second full dump: %d, Retry-After %q; want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if n := a.cnt.Dumps(); n != 1 {
		t.Errorf("dumps = %d, want 1", n)
	}
}

// TestExpensiveRequestsAreLimited: past MaxExpensive, 429 with
// Retry-After, counted.
func TestExpensiveRequestsAreLimited(t *testing.T) {
	a := start(t, Options{Interval: time.Hour, MaxExpensive: 1})
	base := "http://" + a.Addr()
	// A client of its own, whose idle connections are closed before the
	// agent: a connection dialed but never used would hold Close's
	// graceful shutdown for its full timeout.
	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		req, _ := http.NewRequestWithContext(ctx, "GET", base+"/debug/fgprof?seconds=60", nil)
		if resp, err := hc.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	for a.api.Busy() == 0 { // until the profile holds the slot
		time.Sleep(time.Millisecond)
	}
	for _, path := range []string{"/debug/pprof/profile?seconds=1", "/debug/pprof/heap", "/api/v1/goroutines?full=1"} {
		resp, err := hc.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s while the slot is taken: %d, Retry-After %q; want 429", path, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
	// Cheap endpoints are not limited.
	if resp, err := hc.Get(base + "/api/v1/snapshot"); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("snapshot while the slot is taken: %v", err)
	} else {
		resp.Body.Close()
	}
	if n := a.status().LimitsHit[LimitExpensive]; n != 3 {
		t.Errorf("expensive refusals counted %d, want 3", n)
	}
	cancel()
	<-done
}

// TestEndpointsSwitchedOff: NoPprof, NoTrace and NoCaptureEndpoints remove their
// endpoints and say which option did.
func TestEndpointsSwitchedOff(t *testing.T) {
	a := start(t, Options{Interval: time.Hour, NoPprof: true, NoCaptureEndpoints: true})
	base := "http://" + a.Addr()
	for path, opt := range map[string]string{
		"/debug/pprof/":          "NoPprof",
		"/debug/pprof/heap":      "NoPprof",
		"/debug/pprof/profile":   "NoPprof",
		"/debug/fgprof":          "NoPprof",
		"/api/v1/captures":       "NoCaptureEndpoints",
		"/api/v1/captures/x-cpu": "NoCaptureEndpoints",
	} {
		if code, body := get(t, base+path); code != http.StatusNotFound || !strings.Contains(body, opt) {
			t.Errorf("%s: %d %s, want 404 naming %s", path, code, body, opt)
		}
	}
	b := start(t, Options{Interval: time.Hour, NoTrace: true})
	if code, body := get(t, "http://"+b.Addr()+"/debug/pprof/trace"); code != http.StatusNotFound || !strings.Contains(body, "NoTrace") {
		t.Errorf("trace with NoTrace: %d %s", code, body)
	}
	if code, _ := get(t, "http://"+b.Addr()+"/debug/pprof/heap"); code != http.StatusOK {
		t.Errorf("heap with NoTrace: %d, want 200", code)
	}
}

// blocking is a collector that, once armed, blocks on a lock held by the
// test and ignores its context, as sql.DB.Stats does behind a held lock.
type blocking struct {
	armed *sync.Mutex // held by the test while the collector must hang
	hang  chan struct{}
}

func (b *blocking) Name() string { return "blocking" }
func (b *blocking) Collect(ctx context.Context, _ *model.Snapshot) error {
	select {
	case <-b.hang:
		b.armed.Lock() // ignores ctx
		b.armed.Unlock()
	default:
	}
	return nil
}

// TestHungCollectorIsAbandoned: a collector that never returns does not
// stall collection: it is abandoned after its timeout, counted once,
// skipped and shown as hung until it returns, then runs again.
func TestHungCollectorIsAbandoned(t *testing.T) {
	var mu sync.Mutex
	b := &blocking{armed: &mu, hang: make(chan struct{})}
	a := start(t, Options{Interval: 20 * time.Millisecond, Collectors: []model.Collector{b}, NoDetectors: true})
	a.colTimeout.Store(int64(100 * time.Millisecond))
	mu.Lock()
	close(b.hang)
	s := waitSeq(t, a, a.Latest().Seq+10) // collection goes on
	if len(s.Agent.HungCollectors) != 1 || s.Agent.HungCollectors[0] != "blocking" {
		t.Errorf("hung collectors %v, want [blocking]", s.Agent.HungCollectors)
	}
	var st model.CollectorStatus
	for _, c := range s.Collectors {
		if c.Name == "blocking" {
			st = c
		}
	}
	if !st.Skipped || !strings.Contains(st.Err, "hung") {
		t.Errorf("status of the hung collector = %+v, want skipped, hung", st)
	}
	if n := s.Agent.LimitsHit[LimitCollectorTimeout]; n != 1 {
		t.Errorf("timeouts counted %d, want 1 (skipped, not retried, while hung)", n)
	}
	mu.Unlock() // it returns
	deadline := time.Now().Add(10 * time.Second)
	for len(a.Latest().Agent.HungCollectors) > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if h := a.Latest().Agent.HungCollectors; len(h) > 0 {
		t.Errorf("still hung after returning: %v", h)
	}
}

// TestStreamClientKilledMidStream: a stream client whose connection dies
// mid-stream frees its slot; the agent goes on.
func TestStreamClientKilledMidStream(t *testing.T) {
	a := start(t, Options{Interval: 20 * time.Millisecond, NoDetectors: true})
	conn, err := net.Dial("tcp", a.Addr())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET /api/v1/stream HTTP/1.1\r\nHost: x\r\n\r\n")
	buf := make([]byte, 4096)
	if _, err := conn.Read(buf); err != nil {
		t.Fatal(err)
	}
	if n := a.stream.Len(); n != 1 {
		t.Fatalf("%d subscribers, want 1", n)
	}
	conn.(*net.TCPConn).SetLinger(0) // a reset, as a killed process leaves
	conn.Close()
	deadline := time.Now().Add(10 * time.Second)
	for a.stream.Len() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := a.stream.Len(); n != 0 {
		t.Errorf("%d subscribers after the client died, want 0", n)
	}
	seq := a.Latest().Seq
	waitSeq(t, a, seq+3)
}

// TestSlowStreamReaderIsDroppedNotBuffered: a subscriber that does not
// read keeps one snapshot, the newest; the ones it missed are counted,
// and subscribers past the bound are refused and counted.
func TestSlowStreamReaderIsDroppedNotBuffered(t *testing.T) {
	b := broker.New[*model.Snapshot](api.MaxSubscribers)
	ch := b.Subscribe()
	for i := range uint64(5) {
		b.Publish(&model.Snapshot{Seq: i + 1})
	}
	if len(ch) != 1 || (<-ch).Seq != 5 {
		t.Error("the slow reader's mailbox does not hold just the newest snapshot")
	}
	if n := b.Dropped(); n != 4 {
		t.Errorf("dropped snapshots counted %d, want 4", n)
	}
	for range api.MaxSubscribers - 1 {
		if b.Subscribe() == nil {
			t.Fatal("refused below the bound")
		}
	}
	if b.Subscribe() != nil {
		t.Fatal("a subscriber past the bound was accepted")
	}
	if n := b.Refused(); n != 1 {
		t.Errorf("refused subscribers counted %d, want 1", n)
	}
}

// truncating stands for a table cut to its bound: it marks the group
// table and the connection list truncated, as the real collectors do
// past their bounds.
type truncating struct{}

func (truncating) Name() string { return "truncating" }
func (truncating) Collect(_ context.Context, s *model.Snapshot) error {
	s.GroupsTruncated, s.Connections.Truncated = true, true
	return nil
}

// flood is a detector that reports more conditions than the engine keeps.
type flood struct{}

func (flood) Name() string { return "flood" }
func (flood) Detect(model.Window) []model.Finding {
	out := make([]model.Finding, 20)
	for i := range out {
		out[i] = model.Finding{Detector: "flood", Level: model.LevelWarning, Title: "flood", Subject: fmt.Sprint("site-", i)}
	}
	return out
}

// TestBoundsHitAreCountedAndShown: cut tables and dropped findings are
// counted, in the snapshot and as metrics.
func TestBoundsHitAreCountedAndShown(t *testing.T) {
	a := start(t, Options{Interval: 20 * time.Millisecond, Collectors: []model.Collector{truncating{}},
		Detectors: []model.Detector{flood{}}, Lifecycle: findings.Config{MaxActive: 5}})
	s := waitSeq(t, a, a.Latest().Seq+3)
	for _, l := range []string{LimitGroups, LimitConns, LimitFindings} {
		if s.Agent.LimitsHit[l] == 0 {
			t.Errorf("snapshot limits_hit[%s] = 0, want counted (%v)", l, s.Agent.LimitsHit)
		}
	}
	_, body := get(t, "http://"+a.Addr()+"/metrics")
	if !strings.Contains(body, `asyncmon_limit_hits_total{limit="findings"}`) || strings.Contains(body, `asyncmon_limit_hits_total{limit="findings"} 0`) {
		t.Errorf("findings bound not in the metrics")
	}
}

// TestRecordingsServeAndRefuseASecond: the CPU profile and the execution
// trace stream a real recording, and a second one of the same kind asked
// while one runs gets the documented 503 with Retry-After, not pprof's
// 500.
func TestRecordingsServeAndRefuseASecond(t *testing.T) {
	a := start(t, Options{NoCapture: true})
	type result struct {
		code  int
		retry string
		body  []byte
	}
	get := func(path string) result {
		resp, err := http.Get("http://" + a.Addr() + path)
		if err != nil {
			t.Error(err)
			return result{}
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return result{resp.StatusCode, resp.Header.Get("Retry-After"), b}
	}
	for _, tc := range []struct{ path, magic string }{
		{"/debug/pprof/trace?seconds=2", "go 1."},
		{"/debug/pprof/profile?seconds=2", "\x1f\x8b"}, // gzip
	} {
		// Two clients ask at once, the second again until the first is
		// over: one records, the others overlap it and are refused.
		var results []result
		var mu sync.Mutex // guards results
		done := make(chan struct{})
		go func() {
			r := get(tc.path)
			mu.Lock()
			results = append(results, r)
			mu.Unlock()
			close(done)
		}()
		for over := false; !over; {
			r := get(tc.path)
			mu.Lock()
			results = append(results, r)
			mu.Unlock()
			select {
			case <-done:
				over = true
			default:
			}
		}
		recorded, refused := 0, 0
		for _, r := range results {
			switch {
			case r.code == http.StatusOK && strings.HasPrefix(string(r.body), tc.magic):
				recorded++
			case r.code == http.StatusServiceUnavailable && r.retry != "":
				refused++
			default:
				t.Errorf("%s: got %d (Retry-After %q) and %d bytes, want a recording or 503 with Retry-After", tc.path, r.code, r.retry, len(r.body))
			}
		}
		if recorded == 0 || refused == 0 {
			t.Errorf("%s: %d recorded and %d refused of %d overlapping requests, want at least one of each", tc.path, recorded, refused, len(results))
		}
	}
}

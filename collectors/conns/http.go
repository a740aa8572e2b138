package conns

//lint:file-ignore SA1019 the tracked transport honours http.Transport.Dial when it is all the user set.

import (
	"context"
	"io"
	"net"
	"net/http"
	"runtime"
	"time"

	"github.com/asyncmon/asyncmon/model"
)

// HTTPTransport returns a RoundTripper over a clone of base whose dialled
// connections (kind "client") and response bodies (kind "http-body") are
// tracked. A nil base clones [http.DefaultTransport]:
//
//	client := &http.Client{Transport: tracker.HTTPTransport(nil)}
//
// base itself is not modified.
func (t *Tracker) HTTPTransport(base *http.Transport) http.RoundTripper {
	var tr *http.Transport
	switch {
	case base != nil:
		tr = base.Clone()
	default:
		if dt, ok := http.DefaultTransport.(*http.Transport); ok {
			tr = dt.Clone()
		} else {
			// Someone replaced DefaultTransport; start from its documented
			// settings.
			tr = &http.Transport{
				Proxy:                 http.ProxyFromEnvironment,
				ForceAttemptHTTP2:     true,
				MaxIdleConns:          100,
				IdleConnTimeout:       90 * time.Second,
				TLSHandshakeTimeout:   10 * time.Second,
				ExpectContinueTimeout: time.Second,
			}
		}
	}
	// A transport with no dialer and no TLS settings of its own speaks
	// HTTP/2 by default; setting DialContext would silently turn that
	// off, so ask for it explicitly.
	if tr.DialContext == nil && tr.Dial == nil && tr.DialTLS == nil && tr.DialTLSContext == nil && tr.TLSClientConfig == nil {
		tr.ForceAttemptHTTP2 = true
	}
	switch {
	case tr.DialContext != nil:
		tr.DialContext = t.WrapDialer(tr.DialContext)
	case tr.Dial != nil:
		dial := tr.Dial
		tr.Dial = nil
		tr.DialContext = t.WrapDialer(func(_ context.Context, network, addr string) (net.Conn, error) {
			return dial(network, addr)
		})
	default:
		d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
		tr.DialContext = t.WrapDialer(d.DialContext)
	}
	if tr.DialTLSContext != nil {
		tr.DialTLSContext = t.WrapDialer(tr.DialTLSContext)
	}
	// The transport dials with this tracker's dialer: carry each
	// request's call site to it, so client connections name the user's
	// line rather than net/http's dialling goroutine.
	return &trackedTransport{rt: tr, t: t, carrySite: true}
}

// WrapRoundTripper returns rt with every response body tracked (kind
// "http-body") until it is closed or read to the end. A nil rt wraps
// [http.DefaultTransport]:
//
//	client.Transport = tracker.WrapRoundTripper(client.Transport)
//
// A body read to io.EOF counts as done even without Close, because
// http.Transport then returns the connection to its pool by itself. A body
// that becomes unreachable before either is a definite leak: its
// connection and read goroutine stay pinned for good.
func (t *Tracker) WrapRoundTripper(rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		rt = http.DefaultTransport
	}
	return &trackedTransport{rt: rt, t: t}
}

type trackedTransport struct {
	rt http.RoundTripper
	t  *Tracker
	// carrySite puts the call site in the request's context for the
	// tracked dialer.
	carrySite bool
}

// RoundTrip sends the request and tracks the response body. A request
// whose context has no deadline (an http.Client Timeout sets one) is
// counted at its call site.
func (tt *trackedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	cs := &callSite{}
	// Skip runtime.Callers and RoundTrip: the stack starts at the caller.
	runtime.Callers(2, cs.pcs[:])
	remote := ""
	if req.URL != nil {
		remote = req.URL.Host
	}
	tt.t.noDeadline(req.Context(), model.CallHTTP, remote, "", &cs.pcs, 0)
	if tt.carrySite {
		req = withCallSite(req, cs)
	}
	resp, err := tt.rt.RoundTrip(req)
	if err != nil || resp == nil {
		return resp, err
	}
	// A 101 body is the upgraded connection (an io.ReadWriteCloser); no
	// body, no tracking.
	if resp.Body == nil || resp.Body == http.NoBody || resp.StatusCode == http.StatusSwitchingProtocols {
		return resp, err
	}
	st := tt.t.beginAt(kindHTTPBody, &cs.pcs, "", nil, nil, remote)
	b := &trackedBody{rc: resp.Body, st: st}
	watch(b, st)
	// Hand the caller a copy of the response carrying the tracked body,
	// and leave the wrapped transport's own *Response untouched: the
	// transport may keep that one reachable for as long as the body is
	// open (Go 1.27's http.Transport read loop reads it after the body
	// is closed), and a tracked body it reached could never be seen to
	// become unreachable, so a dropped body would never count as leaked.
	out := *resp
	out.Body = b
	return &out, nil
}

// CloseIdleConnections closes the wrapped transport's idle connections,
// so that http.Client.CloseIdleConnections keeps working.
func (tt *trackedTransport) CloseIdleConnections() {
	if ci, ok := tt.rt.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

// Unwrap returns the wrapped RoundTripper.
func (tt *trackedTransport) Unwrap() http.RoundTripper { return tt.rt }

// trackedBody is a response body tracked until Close or io.EOF.
type trackedBody struct {
	rc io.ReadCloser
	st *connState
}

// Read reads the body, counts the bytes, and ends tracking at io.EOF.
func (b *trackedBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.st.in.Add(int64(n))
		b.st.touch()
	}
	if err == io.EOF {
		b.st.t.finish(b.st)
	}
	return n, err
}

// Close closes the body and ends tracking.
func (b *trackedBody) Close() error {
	b.st.t.finish(b.st)
	return b.rc.Close()
}

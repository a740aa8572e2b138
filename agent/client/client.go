// Package client is a small HTTP client of the asyncmon agent API, used by
// the asyncmon command and its terminal UI. It decodes responses into the
// same model types the agent serves, finds local agents (Discover,
// Resolve) and reads a client's credentials (Credentials: a token file or
// $ASYNCMON_TOKEN, TLS files). It uses the standard library only.
package client

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/asyncmon/asyncmon/model"
)

// maxEvent bounds one Server-Sent Event: a snapshot with a large goroutine
// table is big, but not this big.
const maxEvent = 64 << 20

// Client talks to one agent. Its methods are safe for concurrent use.
type Client struct {
	base string
	// display is what BaseURL returns: base, or "unix:/path".
	display string
	hc      *http.Client
	// token is sent as "Authorization: Bearer <token>"; never printed.
	token string
	tls   *tls.Config
}

// Option configures a Client in New.
type Option interface{ apply(*Client) }

type optionFunc func(*Client)

func (f optionFunc) apply(c *Client) { f(c) }

// WithToken sends token as "Authorization: Bearer <token>" with every
// request, for an agent started with Options.Token. The client never
// prints it, not even in errors.
func WithToken(token string) Option {
	return optionFunc(func(c *Client) { c.token = token })
}

// WithTLSConfig uses cfg for https:// addresses: the CA to trust
// (RootCAs) and the client certificate (Certificates) for an agent that
// asks for one.
func WithTLSConfig(cfg *tls.Config) Option {
	return optionFunc(func(c *Client) { c.tls = cfg })
}

// ErrTokenRequired is wrapped by the *APIError of a 401 answer to a
// client without a token; ErrTokenRejected by that of a 401 answer to a
// client whose token the agent refused.
var (
	ErrTokenRequired = errors.New("the agent wants a token")
	ErrTokenRejected = errors.New("the agent refused the token")
)

// New returns a client of the agent at addr: "host:port", a base URL
// such as "http://host:port", "https://host:port" or
// "http://host/prefix", or a Unix socket "unix:/path".
func New(addr string, opts ...Option) (*Client, error) {
	if addr == "" {
		return nil, errors.New("client: empty agent address")
	}
	c := &Client{}
	for _, o := range opts {
		o.apply(c)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if c.tls != nil {
		tr.TLSClientConfig = c.tls.Clone()
	}
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		if path == "" {
			return nil, fmt.Errorf("client: agent address %q: empty socket path", addr)
		}
		tr.Proxy = nil
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		}
		c.base, c.display, c.hc = "http://localhost", addr, &http.Client{Transport: tr}
		return c, nil
	}
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	u, err := url.Parse(addr)
	if err != nil {
		return nil, fmt.Errorf("client: agent address %q: %w", addr, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("client: agent address %q: scheme must be http or https", addr)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("client: agent address %q has no host", addr)
	}
	c.base = strings.TrimRight(u.String(), "/")
	c.display, c.hc = c.base, &http.Client{Transport: tr}
	return c, nil
}

// BaseURL returns the agent's base URL, or "unix:/path" for a Unix
// socket.
func (c *Client) BaseURL() string { return c.display }

// APIError is an error response from the agent.
type APIError struct {
	StatusCode int
	Message    string
	// sentToken says whether the request carried a token, which tells a
	// missing token from a refused one on 401.
	sentToken bool
}

func (e *APIError) Error() string {
	return fmt.Sprintf("agent: %d %s: %s", e.StatusCode, http.StatusText(e.StatusCode), e.Message)
}

// Unwrap returns ErrTokenRequired or ErrTokenRejected for a 401, nil
// otherwise.
func (e *APIError) Unwrap() error {
	if e.StatusCode != http.StatusUnauthorized {
		return nil
	}
	if e.sentToken {
		return ErrTokenRejected
	}
	return ErrTokenRequired
}

// Get fetches path (with its query) and decodes the JSON answer into v.
// It is the building block of the typed methods, exported for endpoints
// they do not cover.
func (c *Client) Get(ctx context.Context, path string, v any) error {
	resp, err := c.do(ctx, path, "application/json")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("client: decode %s: %w", path, err)
	}
	return nil
}

// Download copies the body at path to w, for profiles and captures.
func (c *Client) Download(ctx context.Context, path string, w io.Writer) (int64, error) {
	resp, err := c.do(ctx, path, "")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("client: download %s: %w", path, err)
	}
	return n, nil
}

func (c *Client) do(ctx context.Context, path, accept string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, readAPIError(resp, c.token != "")
	}
	return resp, nil
}

func readAPIError(resp *http.Response, sentToken bool) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var e struct {
		Error string `json:"error"`
	}
	msg := strings.TrimSpace(string(body))
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		msg = e.Error
	}
	return &APIError{StatusCode: resp.StatusCode, Message: msg, sentToken: sentToken}
}

// Health checks /healthz.
func (c *Client) Health(ctx context.Context) error {
	var v map[string]any
	return c.Get(ctx, "/healthz", &v)
}

// Snapshot returns the agent's latest snapshot.
func (c *Client) Snapshot(ctx context.Context) (*model.Snapshot, error) {
	var s model.Snapshot
	if err := c.Get(ctx, "/api/v1/snapshot", &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// History returns the snapshots taken since since (all of the history for
// the zero time), oldest first.
func (c *Client) History(ctx context.Context, since time.Time) ([]*model.Snapshot, error) {
	path := "/api/v1/history"
	if !since.IsZero() {
		path += "?since=" + url.QueryEscape(since.Format(time.RFC3339Nano))
	}
	var out []*model.Snapshot
	if err := c.Get(ctx, path, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Stream calls fn with every snapshot the agent publishes, starting with
// the latest, until ctx is done, fn returns an error, or the connection
// ends. It returns nil only when ctx is done; a disconnect returns an
// error wrapping io.ErrUnexpectedEOF, so callers can reconnect.
func (c *Client) Stream(ctx context.Context, fn func(*model.Snapshot) error) error {
	resp, err := c.do(ctx, "/api/v1/stream", "text/event-stream")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	err = readEvents(resp.Body, func(event string, data []byte) error {
		if event != "snapshot" {
			return nil
		}
		var s model.Snapshot
		if err := json.Unmarshal(data, &s); err != nil {
			return fmt.Errorf("client: decode stream event: %w", err)
		}
		return fn(&s)
	})
	if ctx.Err() != nil {
		return nil
	}
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("client: stream ended: %w", err)
}

// readEvents parses a Server-Sent Events body, calling fn per event. It
// returns nil at a clean end of the body.
func readEvents(r io.Reader, fn func(event string, data []byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxEvent)
	event := ""
	var data bytes.Buffer
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case len(line) == 0: // dispatch
			if data.Len() > 0 {
				if event == "" {
					event = "message"
				}
				if err := fn(event, bytes.TrimSuffix(data.Bytes(), []byte("\n"))); err != nil {
					return err
				}
			}
			event = ""
			data.Reset()
		case line[0] == ':': // comment
		default:
			field, value, _ := bytes.Cut(line, []byte(":"))
			value = bytes.TrimPrefix(value, []byte(" "))
			switch string(field) {
			case "event":
				event = string(value)
			case "data":
				data.Write(value)
				data.WriteByte('\n')
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if data.Len() > 0 {
		return io.ErrUnexpectedEOF // cut off inside an event
	}
	return nil
}

// DownloadFile downloads path to the file dst through a temporary file
// beside it, renamed into place only when the download is complete: an
// interrupted download never leaves a truncated file behind, nor clobbers
// an earlier one. It returns the bytes written.
func (c *Client) DownloadFile(ctx context.Context, path, dst string) (int64, error) {
	f, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".*.tmp")
	if err != nil {
		return 0, err
	}
	n, err := c.Download(ctx, path, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), dst)
	}
	if err != nil {
		os.Remove(f.Name())
		return 0, err
	}
	return n, nil
}

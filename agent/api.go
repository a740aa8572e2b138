package agent

import (
	"crypto/tls"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/asyncmon/asyncmon/agent/internal/api"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The HTTP API and its access checks live in agent/internal/api; this
// file builds it from Options and reads the credentials.

// ErrTokenRequired is returned by Start for a TCP address beyond loopback
// without Options.Token, TokenFile or TLS client certificates.
var ErrTokenRequired = api.ErrTokenRequired

// loadToken returns the token from Options: Token, or the content of
// TokenFile with surrounding white space trimmed; nil for none.
func loadToken(opts Options) ([]byte, error) {
	switch {
	case opts.Token != "" && opts.TokenFile != "":
		return nil, errors.New("asyncmon: set Options.Token or Options.TokenFile, not both")
	case opts.Token != "":
		return []byte(opts.Token), nil
	case opts.TokenFile != "":
		data, err := os.ReadFile(opts.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("asyncmon: token file: %w", err)
		}
		tok := strings.TrimSpace(string(data))
		if tok == "" {
			return nil, fmt.Errorf("asyncmon: token file %s is empty", opts.TokenFile)
		}
		return []byte(tok), nil
	}
	return nil, nil
}

// clientCertAuth reports whether cfg makes TLS clients prove themselves
// with a certificate the server verifies.
func clientCertAuth(cfg *tls.Config) bool {
	return cfg != nil && cfg.ClientAuth == tls.RequireAndVerifyClientCert
}

// newAPI builds the HTTP API over the agent.
func (a *Agent) newAPI(opts Options) *api.API {
	cfg := api.Config{
		Source: a,
		Metrics: promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{
			ErrorHandling: promhttp.ContinueOnError,
		}),
		Stream:             a.stream,
		Collections:        a.collections.Load,
		Goroutines:         a.goroutines,
		Counters:           a.cnt,
		Log:                a.log,
		Token:              a.token,
		MaxExpensive:       opts.MaxExpensive,
		NoPprof:            opts.NoPprof,
		NoTrace:            opts.NoTrace,
		NoCaptureEndpoints: opts.NoCaptureEndpoints,
		WriteTimeout:       writeTimeout,
		Done:               a.ctx.Done(),
	}
	if d := a.detection; d != nil {
		cfg.Detectors = func() []string { return slices.Collect(maps.Keys(d.engine.Detectors())) }
		if d.capture != nil {
			cfg.Captures = d.capture
		}
	}
	return api.New(cfg)
}

package client

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
)

// TokenEnv names the environment variable that holds an agent's token,
// read by the asyncmon command, its terminal UI and the demo's own agent
// when no token file is given.
const TokenEnv = "ASYNCMON_TOKEN"

// ReadToken returns a token: the content of the file at path with
// surrounding white space trimmed, or, for an empty path, $ASYNCMON_TOKEN
// ("" when unset). A file that cannot be read or is empty is an error.
// The token itself never shows in an error.
func ReadToken(path string) (string, error) {
	if path == "" {
		return strings.TrimSpace(os.Getenv(TokenEnv)), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("--token-file: %w", err)
	}
	tok := strings.TrimSpace(string(data))
	if tok == "" {
		return "", fmt.Errorf("--token-file: %s is empty", path)
	}
	return tok, nil
}

// Credentials names the files a client's credentials come from, as the
// asyncmon command's flags of the same names give them (its errors name
// those flags). The zero value means: the token from $ASYNCMON_TOKEN, if
// set, and no TLS settings. The token is never a command-line argument,
// where ps would show it.
type Credentials struct {
	// TokenFile holds the token (--token-file); "" reads $ASYNCMON_TOKEN.
	TokenFile string
	// CAFile holds the PEM CA certificates to trust for https:// agents
	// (--tls-ca); "" trusts the system's.
	CAFile string
	// CertFile and KeyFile hold a PEM client certificate and its key, for
	// agents that ask for one (--tls-cert, --tls-key); both or neither.
	CertFile, KeyFile string
}

// Options reads the credentials and returns the client options for
// them: WithToken when there is a token, WithTLSConfig (TLS 1.2 at
// least) when any TLS file is named.
func (c Credentials) Options() ([]Option, error) {
	tok, err := ReadToken(c.TokenFile)
	if err != nil {
		return nil, err
	}
	var opts []Option
	if tok != "" {
		opts = append(opts, WithToken(tok))
	}
	if c.CAFile == "" && c.CertFile == "" && c.KeyFile == "" {
		return opts, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("--tls-ca: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--tls-ca: no PEM certificate in %s", c.CAFile)
		}
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		return nil, errors.New("--tls-cert and --tls-key go together")
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("--tls-cert: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return append(opts, WithTLSConfig(cfg)), nil
}

// CredentialHint turns an agent's refusal of the client's credentials
// (a 401 or 403 answer) into what to do about it, in one line; it
// returns "" for any other error.
func CredentialHint(err error) string {
	var ae *APIError
	switch {
	case errors.Is(err, ErrTokenRequired):
		return "the agent wants a token: set " + TokenEnv + " or --token-file"
	case errors.Is(err, ErrTokenRejected):
		return "the agent refused the token: check " + TokenEnv + " or --token-file"
	case errors.As(err, &ae) && ae.StatusCode == http.StatusForbidden:
		return "the agent refused access: " + ae.Message
	}
	return ""
}

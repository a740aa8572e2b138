package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/asyncmon/asyncmon/agent/client"
)

// tokenEnv names the environment variable holding the agent's token, for
// the commands that talk to an agent and for the demo's own agent.
const tokenEnv = "ASYNCMON_TOKEN"

// credFlags are the credential flags of every command that talks to an
// agent. The token itself is never a flag (it would show in ps) and never
// printed.
type credFlags struct {
	tokenFile *string
	caFile    *string
	certFile  *string
	keyFile   *string
}

// addCredFlags adds --token-file and the TLS flags to fs.
func addCredFlags(fs *flag.FlagSet) *credFlags {
	return &credFlags{
		tokenFile: fs.String("token-file", "", "read the agent's token from `FILE` (default: the "+tokenEnv+" environment variable)"),
		caFile:    fs.String("tls-ca", "", "for https:// agents: trust the CA certificates in `FILE` (PEM)"),
		certFile:  fs.String("tls-cert", "", "for https:// agents that want a client certificate: the certificate `FILE` (PEM), with --tls-key"),
		keyFile:   fs.String("tls-key", "", "the private key `FILE` (PEM) of --tls-cert"),
	}
}

// token returns the token: the content of --token-file, else $ASYNCMON_TOKEN,
// else "".
func (f *credFlags) token() (string, error) {
	return readToken(*f.tokenFile)
}

// readToken reads the token from path (white space trimmed), or from the
// environment when path is empty.
func readToken(path string) (string, error) {
	if path == "" {
		return strings.TrimSpace(os.Getenv(tokenEnv)), nil
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

// options returns the client options the flags ask for.
func (f *credFlags) options() ([]client.Option, error) {
	tok, err := f.token()
	if err != nil {
		return nil, usageError{err}
	}
	var opts []client.Option
	if tok != "" {
		opts = append(opts, client.WithToken(tok))
	}
	if *f.caFile == "" && *f.certFile == "" && *f.keyFile == "" {
		return opts, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if *f.caFile != "" {
		pem, err := os.ReadFile(*f.caFile)
		if err != nil {
			return nil, usageError{fmt.Errorf("--tls-ca: %w", err)}
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, usageError{fmt.Errorf("--tls-ca: no PEM certificate in %s", *f.caFile)}
		}
	}
	if (*f.certFile == "") != (*f.keyFile == "") {
		return nil, usageError{errors.New("--tls-cert and --tls-key go together")}
	}
	if *f.certFile != "" {
		cert, err := tls.LoadX509KeyPair(*f.certFile, *f.keyFile)
		if err != nil {
			return nil, usageError{fmt.Errorf("--tls-cert: %w", err)}
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return append(opts, client.WithTLSConfig(cfg)), nil
}

// credentialHint turns an agent's refusal into what to do about it, or
// returns "" for other errors.
func credentialHint(err error) string {
	var ae *client.APIError
	switch {
	case errors.Is(err, client.ErrTokenRequired):
		return "the agent wants a token: set " + tokenEnv + " or --token-file"
	case errors.Is(err, client.ErrTokenRejected):
		return "the agent refused the token: check " + tokenEnv + " or --token-file"
	case errors.As(err, &ae) && ae.StatusCode == 403:
		return "the agent refused access: " + ae.Message
	}
	return ""
}

package main

import (
	"flag"

	"github.com/asyncmon/asyncmon/agent/client"
)

// tokenEnv names the environment variable holding the agent's token.
const tokenEnv = client.TokenEnv

// credFlags are the credential flags of every command that talks to an
// agent. The token itself is never a flag (it would show in ps) and never
// printed; agent/client reads the files (client.Credentials).
type credFlags struct {
	tokenFile, caFile, certFile, keyFile *string
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

// options returns the client options the flags ask for; a file that
// cannot be used is a usage error.
func (f *credFlags) options() ([]client.Option, error) {
	opts, err := client.Credentials{TokenFile: *f.tokenFile, CAFile: *f.caFile, CertFile: *f.certFile, KeyFile: *f.keyFile}.Options()
	if err != nil {
		return nil, usageError{err}
	}
	return opts, nil
}

package client

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCredentials: the token comes from the file (trimmed) or the
// environment; a missing or empty file, a CA file without a certificate
// and a certificate without its key are errors naming the flag, and no
// error shows the token.
func TestCredentials(t *testing.T) {
	const secret = "creds-secret-42"
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tokenFile := write("token", "  "+secret+"\n")
	empty := write("empty", " \n")
	notPEM := write("ca", secret)

	t.Setenv(TokenEnv, " from-env ")
	if tok, err := ReadToken(""); err != nil || tok != "from-env" {
		t.Errorf("ReadToken from the environment = %q, %v", tok, err)
	}
	if tok, err := ReadToken(tokenFile); err != nil || tok != secret {
		t.Errorf("ReadToken(file) = %q, %v", tok, err)
	}
	t.Setenv(TokenEnv, "")
	if opts, err := (Credentials{}).Options(); err != nil || len(opts) != 0 {
		t.Errorf("no credentials: %d options, %v", len(opts), err)
	}
	if opts, err := (Credentials{TokenFile: tokenFile}).Options(); err != nil || len(opts) != 1 {
		t.Errorf("a token file: %d options, %v", len(opts), err)
	}
	for _, tt := range []struct {
		name string
		c    Credentials
		want string
	}{
		{"missing token file", Credentials{TokenFile: filepath.Join(dir, "missing")}, "--token-file"},
		{"empty token file", Credentials{TokenFile: empty}, "is empty"},
		{"CA file without PEM", Credentials{CAFile: notPEM}, "--tls-ca: no PEM certificate"},
		{"missing CA file", Credentials{CAFile: filepath.Join(dir, "missing")}, "--tls-ca"},
		{"certificate without key", Credentials{CertFile: notPEM}, "go together"},
		{"bad certificate", Credentials{CertFile: notPEM, KeyFile: notPEM}, "--tls-cert"},
	} {
		_, err := tt.c.Options()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error with %q", tt.name, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("%s: the error shows the file's content: %v", tt.name, err)
		}
	}
}

// TestCredentialHint: a refusal reads as what to do; other errors get no
// hint.
func TestCredentialHint(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{&APIError{StatusCode: 401}, "the agent wants a token: set ASYNCMON_TOKEN or --token-file"},
		{&APIError{StatusCode: 401, sentToken: true}, "the agent refused the token"},
		{&APIError{StatusCode: 403, Message: "peer is another user"}, "refused access: peer is another user"},
		{&APIError{StatusCode: 500, Message: "boom"}, ""},
		{errors.New("connection refused"), ""},
	} {
		if got := CredentialHint(tt.err); (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("CredentialHint(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

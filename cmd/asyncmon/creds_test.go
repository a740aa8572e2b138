package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/agent"
	"github.com/asyncmon/asyncmon/agent/client"
	"github.com/asyncmon/asyncmon/tui"
	"github.com/asyncmon/asyncmon/tui/clientsource"
)

const testToken = "cli-token-7f3a9c"

// TestCommandsSendTheToken: snapshot, findings and capture read the token
// from ASYNCMON_TOKEN or --token-file and send it; without it, or with a
// wrong one, they say what to do in one line; the token never shows in
// their output, nor in ls.
func TestCommandsSendTheToken(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	a, err := agent.Start(context.Background(), agent.Options{Addr: "127.0.0.1:0", Interval: 50 * time.Millisecond, Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	tokenFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokenFile, []byte(testToken+"\n"), 0o600)
	wrongFile := filepath.Join(t.TempDir(), "wrong")
	os.WriteFile(wrongFile, []byte("nope\n"), 0o600)
	out := filepath.Join(t.TempDir(), "heap.pb.gz")

	var all strings.Builder
	check := func(name string, env string, args []string, wantCode int, want string) {
		t.Helper()
		t.Setenv(tokenEnv, env)
		code, stdout, stderr := runCmd(t, args...)
		all.WriteString(stdout + stderr)
		if code != wantCode || !strings.Contains(stdout+stderr, want) {
			t.Errorf("%s: exit %d, output %q; want exit %d with %q", name, code, stdout+stderr, wantCode, want)
		}
	}
	addr := a.Addr()
	check("snapshot, no token", "", []string{"snapshot", addr}, 1, "the agent wants a token: set ASYNCMON_TOKEN or --token-file")
	check("snapshot, wrong token", "nope", []string{"snapshot", addr}, 1, "the agent refused the token")
	check("snapshot, wrong token file", testToken, []string{"snapshot", addr, "--token-file", wrongFile}, 1, "the agent refused the token")
	check("snapshot, env", testToken, []string{"snapshot", addr}, 0, "collection #")
	check("snapshot, token file", "", []string{"snapshot", addr, "--token-file", tokenFile}, 0, "collection #")
	check("findings, env", testToken, []string{"findings", addr}, 0, "")
	check("findings, no token", "", []string{"findings", addr}, 1, "the agent wants a token")
	check("capture, env", testToken, []string{"capture", addr, "--kind", "heap", "-o", out}, 0, "wrote")
	check("capture, no token", "", []string{"capture", addr, "--kind", "heap", "-o", out}, 1, "the agent wants a token")
	check("missing token file", "", []string{"snapshot", addr, "--token-file", filepath.Join(t.TempDir(), "missing")}, 2, "--token-file")
	check("ls", testToken, []string{"ls"}, 0, addr)
	check("ls --json", testToken, []string{"ls", "--json"}, 0, addr)
	if strings.Contains(all.String(), testToken) {
		t.Errorf("the token shows in the commands' output:\n%s", all.String())
	}
	entries, _ := os.ReadDir(client.RegistryDir())
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(client.RegistryDir(), e.Name()))
		if bytes.Contains(data, []byte(testToken)) {
			t.Errorf("registry entry %s holds the token", e.Name())
		}
	}
	if fi, err := os.Stat(client.RegistryDir()); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("registry dir: %v, want mode 0700", err)
	}
}

// TestDemoRefusesNonLoopbackWithoutToken: the acceptance check, in
// process: the demo on 0.0.0.0 without a token exits at once, naming
// the fix.
func TestDemoRefusesNonLoopbackWithoutToken(t *testing.T) {
	t.Setenv(tokenEnv, "")
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	code, _, stderr := runCmd(t, "demo", "--no-tui", "--addr", "127.0.0.1:0", "--agent-addr", "0.0.0.0:0")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, fix := range []string{"refusing to serve on 0.0.0.0:0 without a token", "ASYNCMON_TOKEN", "--token-file", "127.0.0.1", "unix:/path"} {
		if !strings.Contains(stderr, fix) {
			t.Errorf("stderr %q does not name %q", stderr, fix)
		}
	}
}

// TestDemoOnUnixSocket: the demo's agent on unix:PATH has mode 0600 and
// answers snapshot over the socket.
func TestDemoOnUnixSocket(t *testing.T) {
	t.Setenv(tokenEnv, "")
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	sock := filepath.Join(t.TempDir(), "agent.sock")
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var code int
	var out, errb bytes.Buffer // read only after wg.Wait
	wg.Go(func() {
		code = run(ctx, []string{"demo", "--no-tui", "--addr", "127.0.0.1:0", "--agent-addr", "unix:" + sock}, &out, &errb)
	})
	defer func() {
		cancel()
		wg.Wait()
		if code != 0 {
			t.Errorf("demo exit %d: %s", code, errb.String())
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	var fi os.FileInfo
	var err error
	for fi, err = os.Lstat(sock); err != nil && time.Now().Before(deadline); fi, err = os.Lstat(sock) {
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("no socket: %v", err)
	}
	if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want srw-------", fi.Mode())
	}
	if c, stdout, stderr := runCmd(t, "snapshot", "unix:"+sock); c != 0 || !strings.Contains(stdout, "collection #") {
		t.Errorf("snapshot over the socket: exit %d, %q %q", c, stdout, stderr)
	}
}

// TestClientSourceSurvivesAgentRestart: a UI source with a token, on a
// Unix socket, reports the agent gone when it stops, then reconnects to
// the agent started again on the same socket.
func TestClientSourceSurvivesAgentRestart(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	sock := "unix:" + filepath.Join(t.TempDir(), "agent.sock")
	opts := agent.Options{Addr: sock, Interval: 20 * time.Millisecond, Token: testToken, NoDetectors: true}
	a, err := agent.Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(sock, client.WithToken(testToken))
	if err != nil {
		t.Fatal(err)
	}
	src := clientsource.New(c)
	ctx, cancel := context.WithCancel(context.Background())
	updates := make(chan tui.Update, 1024)
	var wg sync.WaitGroup
	wg.Go(func() {
		src.Run(ctx, func(u tui.Update) {
			select {
			case updates <- u:
			case <-ctx.Done():
			}
		})
	})
	defer func() { cancel(); wg.Wait() }()
	// waitFor reads updates until one matches, within a generous bound.
	waitFor := func(what string, ok func(tui.Update) bool) {
		t.Helper()
		timeout := time.After(30 * time.Second)
		for {
			select {
			case u := <-updates:
				if ok(u) {
					return
				}
			case <-timeout:
				t.Fatalf("no update with %s", what)
			}
		}
	}
	live := func(u tui.Update) bool { return u.Status != nil && u.Status.State == tui.StateLive }
	snapshots := func(u tui.Update) bool { return len(u.Snapshots) > 0 }
	waitFor("live", live)
	waitFor("snapshots", snapshots)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor("disconnected", func(u tui.Update) bool { return u.Status != nil && u.Status.State == tui.StateDisconnected })
	b, err := agent.Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	waitFor("live again", live)
	waitFor("the new agent's snapshots", func(u tui.Update) bool {
		return len(u.Snapshots) > 0 && u.Snapshots[len(u.Snapshots)-1].Process.StartTime.Equal(b.Latest().Process.StartTime)
	})
}

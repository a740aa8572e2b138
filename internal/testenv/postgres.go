package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

// PostgresBinEnv names a directory holding the PostgreSQL server programs,
// searched before PATH's fallbacks (scripts/test.sh sets it).
const PostgresBinEnv = "ASYNCMON_PG_BIN"

// postgresStartTimeout bounds initdb plus server start-up; both take a few
// seconds on a loaded two-core machine.
const postgresStartTimeout = 2 * time.Minute

// Postgres is a throwaway PostgreSQL server started by [StartPostgres].
type Postgres struct {
	// DSN connects as the superuser "postgres" (trust authentication) to
	// the "postgres" database over loopback TCP, without TLS.
	DSN  string
	Port int
}

// StartPostgres starts a PostgreSQL server of its own in a temporary
// directory, listening on a free loopback port only (no Unix socket), and
// stops it and removes its files when the test ends. It skips (or fails
// under ASYNCMON_TEST_STRICT=1) when the server programs are not
// installed; it looks in PATH, in $ASYNCMON_PG_BIN and in
// /usr/lib/postgresql/*/bin, where the Debian package puts them.
//
// initdb refuses to run as root, so as root the programs run as the
// "postgres" user (which the Debian package creates) through runuser.
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.Sort(dirs)
	slices.Reverse(dirs) // newest major version first (lexically: fine for 10 to 99)
	if d := os.Getenv(PostgresBinEnv); d != "" {
		dirs = append([]string{d}, dirs...)
	}
	initdb := LookPath(t, "initdb", dirs...)
	pgctl := filepath.Join(filepath.Dir(initdb), "pg_ctl")
	if _, err := os.Stat(pgctl); err != nil {
		pgctl = LookPath(t, "pg_ctl", dirs...)
	}

	var asUser []string // the command prefix that drops root
	var uid, gid = -1, -1
	if os.Geteuid() == 0 {
		runuser := LookPath(t, "runuser", "/usr/sbin", "/sbin")
		u, err := user.Lookup("postgres")
		if err != nil {
			Missing(t, "running as root needs the postgres user (the Debian package creates it): "+err.Error())
			return nil
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
		asUser = []string{runuser, "-u", "postgres", "--"}
	}

	// Not t.TempDir: its parents are private to the test's user, and the
	// server may run as another.
	base, err := os.MkdirTemp("", "asyncmon-pg-")
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if uid >= 0 {
		if err := os.Chown(base, uid, gid); err != nil {
			t.Fatalf("postgres: %v", err)
		}
	}
	data := filepath.Join(base, "data")
	logFile := filepath.Join(base, "server.log")

	ctx, cancel := context.WithTimeout(context.Background(), postgresStartTimeout)
	defer cancel()
	run := func(args ...string) error {
		args = append(slices.Clone(asUser), args...)
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Dir = base
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %w\n%s", filepath.Base(args[len(asUser)]), err, out)
		}
		return nil
	}

	if err := run(initdb, "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
		"--locale=C", "--no-sync", "--no-instructions"); err != nil {
		t.Fatalf("postgres: %v", err)
	}

	// A free port can be taken by someone else between the probe and the
	// server's bind: try a few.
	var port int
	var startErr error
	for range 3 {
		port, err = freePort()
		if err != nil {
			t.Fatalf("postgres: %v", err)
		}
		opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories='' "+
			"-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=40 -c shared_buffers=16MB", port)
		startErr = run(pgctl, "start", "-D", data, "-l", logFile, "-w", "-t", "60", "-o", opts)
		if startErr == nil {
			break
		}
	}
	if startErr != nil {
		logs, _ := os.ReadFile(logFile)
		t.Fatalf("postgres: %v\nserver log:\n%s", startErr, logs)
	}
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		args := append(slices.Clone(asUser), pgctl, "stop", "-D", data, "-m", "fast", "-w")
		if out, err := exec.CommandContext(stopCtx, args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Errorf("postgres: pg_ctl stop: %v\n%s", err, out)
		}
	})
	return &Postgres{
		DSN:  fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port),
		Port: port,
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

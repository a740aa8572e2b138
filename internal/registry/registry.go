// Package registry is the local discovery of listening agents, shared by
// the agent (which registers) and agent/client (which lists).
//
// A listening agent registers itself in a per-user runtime directory so
// that `asyncmon ls` and `asyncmon attach` (with no argument or a PID) find
// it without PID files in fixed places, which break in containers and
// under PID reuse. The directory is $XDG_RUNTIME_DIR/asyncmon, or
// <os.TempDir()>/asyncmon-<uid> where XDG_RUNTIME_DIR is unset; it is
// created 0700 and refused if it belongs to another user or is open to
// others. Each agent writes <pid>-<port>.json (0600, atomically by rename)
// and removes it on Close. [List] prunes entries whose process is gone, so
// a crash leaves no lasting litter.
package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Entry is the content of a registration file.
type Entry struct {
	PID     int       `json:"pid"`
	Addr    string    `json:"addr"`
	Program string    `json:"program"`
	Started time.Time `json:"started"`
}

// Dir returns the per-user registry directory.
func Dir() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "asyncmon")
	}
	return filepath.Join(os.TempDir(), "asyncmon-"+strconv.Itoa(os.Getuid()))
}

// Registration is one agent's entry in the registry.
type Registration struct {
	path string
}

// Register writes this process's entry for an agent listening on addr. An
// unspecified host (":7071", "0.0.0.0:7071", "[::]:7071") is registered as
// loopback, the address a local client can dial.
//
// A Unix socket ("unix:path") is registered by its absolute path. The
// entry never holds the token: a client reads it from its own setting.
func Register(addr string) (*Registration, error) {
	var port string
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, fmt.Errorf("register agent: %w", err)
		}
		addr = "unix:" + abs
		port = "unix-" + strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(abs))), 16)
	} else {
		host, p, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("register agent: %w", err)
		}
		port = p
		if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
			addr = net.JoinHostPort("127.0.0.1", port)
		}
	}
	dir := Dir()
	if err := ensurePrivateDir(dir); err != nil {
		return nil, fmt.Errorf("register agent: %w", err)
	}
	data, err := json.Marshal(Entry{
		PID: os.Getpid(), Addr: addr, Program: filepath.Base(os.Args[0]), Started: time.Now().UTC(),
	})
	if err != nil {
		return nil, fmt.Errorf("register agent: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*") // created 0600
	if err != nil {
		return nil, fmt.Errorf("register agent: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("register agent: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("register agent: %w", err)
	}
	// One file per agent: a process may run several (tests do).
	path := filepath.Join(dir, strconv.Itoa(os.Getpid())+"-"+port+".json")
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, fmt.Errorf("register agent: %w", err)
	}
	return &Registration{path: path}, nil
}

// Unregister removes the entry. It is safe on a nil Registration and
// idempotent.
func (r *Registration) Unregister() error {
	if r == nil {
		return nil
	}
	if err := os.Remove(r.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("unregister agent: %w", err)
	}
	return nil
}

// ensurePrivateDir creates dir 0700, or checks that an existing one is a
// real directory of this user that others cannot write to: in a shared
// temporary directory another user could have planted it.
func ensurePrivateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%s is open to other users (mode %v)", dir, fi.Mode().Perm())
	}
	if uid, ok := fileOwner(fi); ok && uid != os.Getuid() {
		return fmt.Errorf("%s belongs to uid %d, not to this user", dir, uid)
	}
	return nil
}

// List returns the entries in the registry, in directory order, skipping
// files that are not entries. Entries whose process is gone are removed. A
// missing registry is no error: it means no agent has run.
func List() ([]Entry, error) {
	dir := Dir()
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read agent registry: %w", err)
	}
	var out []Entry
	for _, e := range ents {
		name := e.Name()
		if !strings.HasSuffix(name, ".json") || strings.HasPrefix(name, ".") {
			continue
		}
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if err != nil {
			continue // removed meanwhile
		}
		var en Entry
		if json.Unmarshal(data, &en) != nil || en.PID <= 0 || en.Addr == "" {
			continue
		}
		if processGone(en.PID) {
			os.Remove(path) // its agent crashed without Close
			continue
		}
		out = append(out, en)
	}
	return out, nil
}

package agent

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/asyncmon/asyncmon/agent/client"
	"github.com/asyncmon/asyncmon/internal/testenv"
)

func TestRegistryListsAndForgetsAgents(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	ctx := context.Background()
	a, err := Start(ctx, Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	dir := client.RegistryDir()
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("registry dir: %v, mode %v, want 0700", err, fi.Mode().Perm())
	}
	_, port, _ := strings.Cut(a.Addr(), ":")
	file := filepath.Join(dir, strconv.Itoa(os.Getpid())+"-"+port+".json")
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("registry file: %v, want mode 0600", err)
	}
	got, err := client.Discover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].PID != os.Getpid() || got[0].Addr != a.Addr() || got[0].Err != "" || got[0].Program == "" {
		t.Fatalf("Discover = %+v, want this process at %s, healthy", got, a.Addr())
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if got, _ := client.Discover(ctx); len(got) != 0 {
		t.Errorf("after Close, Discover = %+v, want none", got)
	}
}

func TestRegistryPrunesDeadAndMarksSilentAgents(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	dir := client.RegistryDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	// A process that has exited: its entry is litter from a crash.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		testenv.Missing(t, "true(1) runs: "+err.Error())
	}
	dead := cmd.Process.Pid
	write := func(pid int, addr string) string {
		p := filepath.Join(dir, strconv.Itoa(pid)+".json")
		data := `{"pid":` + strconv.Itoa(pid) + `,"addr":"` + addr + `","program":"x"}`
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	deadFile := write(dead, "127.0.0.1:1")
	// A live process whose address does not answer is listed, marked.
	write(os.Getpid(), "127.0.0.1:1")
	got, err := client.Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].PID != os.Getpid() || !strings.Contains(got[0].Err, "refused") {
		t.Errorf("Discover = %+v, want only this process, marked unreachable", got)
	}
	if _, err := os.Stat(deadFile); !os.IsNotExist(err) {
		t.Errorf("dead entry not pruned: %v", err)
	}
}

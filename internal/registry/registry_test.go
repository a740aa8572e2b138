package registry

import (
	"os"
	"strings"
	"testing"
)

func TestRegistryRefusesSharedDir(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	dir := Dir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := Register("127.0.0.1:7071"); err == nil || !strings.Contains(err.Error(), "open to other users") {
		t.Errorf("register in a 0777 dir: %v, want refusal", err)
	}
}

func TestRegisterUnspecifiedHostAsLoopback(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	r, err := Register("[::]:7071")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Unregister()
	data, err := os.ReadFile(r.path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"addr":"127.0.0.1:7071"`) {
		t.Errorf("entry %s, want loopback address", data)
	}
}

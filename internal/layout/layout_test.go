// Package layout holds a test that keeps asyncmon's import direction:
// cmd → {agent, tui, demo}, agent → {collectors/..., detectors, findings} → model,
// agent → agent/internal/api (the HTTP API, which never imports agent),
// detectors → findings (for its Rule type),
// tui → agent/client → model, and the standard-library-only packages.
package layout

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/asyncmon/asyncmon"

// rules maps a package (by its path in the module; a trailing "/..."
// covers sub-packages) to the module packages it may import. Packages
// marked stdlibOnly may import nothing outside the standard library and
// the module.
var rules = []struct {
	pkg        string
	allow      []string
	stdlibOnly bool
}{
	{pkg: "model", allow: nil, stdlibOnly: true},
	{pkg: "collectors", allow: []string{"model", "collectors/dump"}, stdlibOnly: true},
	{pkg: "collectors/dump", allow: []string{"model"}, stdlibOnly: true},
	{pkg: "collectors/goroutines", allow: []string{"model", "collectors/dump", "internal/cputime"}, stdlibOnly: true},
	{pkg: "internal/cputime", allow: nil, stdlibOnly: true},
	{pkg: "collectors/conns", allow: []string{"model"}, stdlibOnly: true},
	{pkg: "findings", allow: []string{"model"}, stdlibOnly: true},
	{pkg: "detectors", allow: []string{"model", "findings", "detectors/connleak", "detectors/failures", "detectors/internal/..."}, stdlibOnly: true},
	{pkg: "detectors/connleak", allow: []string{"model", "findings", "detectors/internal/..."}, stdlibOnly: true},
	{pkg: "detectors/failures", allow: []string{"model", "findings", "detectors/internal/..."}, stdlibOnly: true},
	{pkg: "detectors/internal/...", allow: nil, stdlibOnly: true},
	{pkg: "agent/client", allow: []string{"model", "internal/registry"}, stdlibOnly: true},
	{pkg: "internal/registry", allow: nil, stdlibOnly: true},
	{pkg: "agent", allow: []string{"model", "agent/capture", "agent/internal/...", "collectors/...", "detectors/...", "findings", "internal/..."}},
	{pkg: "agent/internal/...", allow: []string{"model", "agent/capture", "agent/internal/...", "collectors/...", "internal/..."}},
	{pkg: "agent/internal/api", allow: []string{"model", "agent/capture", "agent/internal/limits", "collectors/goroutines", "internal/broker"}},
	{pkg: "agent/internal/limits", allow: []string{"model"}, stdlibOnly: true},
	{pkg: "agent/capture", allow: []string{"model", "collectors/...", "detectors/...", "findings"}},
	{pkg: "tui/...", allow: []string{"model", "agent/client", "internal/...", "tui/..."}},
	{pkg: "demo/...", allow: []string{"agent", "agent/client", "model", "collectors/...", "internal/..."}},
}

type pkgInfo struct {
	ImportPath string
	Imports    []string
	Standard   bool
}

func TestImportDirection(t *testing.T) {
	cmd := exec.Command("go", "list", "-json", module+"/...")
	cmd.Dir = "../.."
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(out)
	var pkgs []pkgInfo
	for {
		var p pkgInfo
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if len(pkgs) < 5 {
		t.Fatalf("go list found %d packages, want the whole module", len(pkgs))
	}
	for _, p := range pkgs {
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		for _, r := range rules {
			if !matches(r.pkg, rel) {
				continue
			}
			for _, imp := range p.Imports {
				if !strings.HasPrefix(imp, module) {
					if r.stdlibOnly && strings.Contains(strings.SplitN(imp, "/", 2)[0], ".") {
						t.Errorf("%s imports %s: it may use the standard library only", rel, imp)
					}
					continue
				}
				irel := strings.TrimPrefix(strings.TrimPrefix(imp, module), "/")
				ok := false
				for _, a := range r.allow {
					ok = ok || matches(a, irel)
				}
				if !ok {
					t.Errorf("%s imports %s: against the import direction (allowed: %v)", rel, irel, r.allow)
				}
			}
		}
	}
}

func matches(pattern, pkg string) bool {
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return pkg == base || strings.HasPrefix(pkg, base+"/")
	}
	return pkg == pattern
}

package capture

import (
	"testing"

	"github.com/asyncmon/asyncmon/model"
)

// TestHotFunctionClasses: the hot-function lists name the service's code
// (its dependencies and asyncmon's own tests among it) and leave out the
// plumbing and asyncmon's agent.
func TestHotFunctionClasses(t *testing.T) {
	tests := []struct {
		f            model.Frame
		user, system bool
	}{
		{model.Frame{Func: "main.handle"}, true, false},
		{model.Frame{Func: "github.com/acme/svc.(*Server).handle"}, true, false},
		{model.Frame{Func: "example.com/x/y.F"}, true, false},
		{model.Frame{Func: "fmt.(*buffer).writeString"}, false, false},
		{model.Frame{Func: "crypto/internal/fips140/sha256.blockSHANI"}, false, false},
		{model.Frame{Func: "runtime.mallocgc"}, false, true},
		{model.Frame{Func: "github.com/asyncmon/asyncmon/agent.(*Agent).collect", File: "/src/agent/agent.go"}, false, true},
		{model.Frame{Func: "github.com/asyncmon/asyncmon/agent.digest", File: "/src/agent/findings_test.go"}, true, false},
		{model.Frame{Func: "github.com/asyncmon/asyncmon/demo.deriveToken"}, true, false},
	}
	for _, tc := range tests {
		if got := tc.f.IsUser(); got != tc.user {
			t.Errorf("%s IsUser = %v, want %v", tc.f.Func, got, tc.user)
		}
		if got := isSystemFunc(tc.f); got != tc.system {
			t.Errorf("isSystemFunc(%s) = %v, want %v", tc.f.Func, got, tc.system)
		}
	}
}

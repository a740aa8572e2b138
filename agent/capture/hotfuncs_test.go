package capture

import "testing"

func TestIsServiceFunc(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"main.handle", true},
		{"github.com/acme/svc.(*Server).handle", true},
		{"example.com/x/y.F", true},
		{"fmt.(*buffer).writeString", false},
		{"crypto/internal/fips140/sha256.blockSHANI", false},
		{"runtime.mallocgc", false},
		{"github.com/asyncmon/asyncmon/agent.(*Agent).collect", false},
		{"github.com/asyncmon/asyncmon/demo.deriveToken", true},
	}
	for _, tc := range tests {
		if got := isServiceFunc(tc.name); got != tc.want {
			t.Errorf("isServiceFunc(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

package agent

import (
	"os"
	"strings"
	"testing"
)

// TestLimitValuesDocumented: the names live in agent/internal/limits, so
// go doc shows agent.LimitX = limits.X; each doc comment here states the
// value a user sees (label, JSON key), and must state the right one.
func TestLimitValuesDocumented(t *testing.T) {
	src, err := os.ReadFile("limits.go")
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{
		"LimitStreamClients": LimitStreamClients, "LimitStreamDropped": LimitStreamDropped,
		"LimitExpensive": LimitExpensive, "LimitDumpRate": LimitDumpRate,
		"LimitCaptureRate": LimitCaptureRate, "LimitCaptureQueue": LimitCaptureQueue,
		"LimitCaptureFailed": LimitCaptureFailed, "LimitCaptureEvicted": LimitCaptureEvicted,
		"LimitGroups": LimitGroups, "LimitConns": LimitConns, "LimitFindings": LimitFindings,
		"LimitCollectorTimeout": LimitCollectorTimeout,
		"DeniedNoToken":         DeniedNoToken, "DeniedWrongToken": DeniedWrongToken, "DeniedPeer": DeniedPeer,
	} {
		if want := "// " + name + ` ("` + v + `"):`; !strings.Contains(string(src), want) {
			t.Errorf("limits.go does not document %s as %q", name, v)
		}
	}
	if n := len(LimitNames()); n != 12 {
		t.Errorf("LimitNames has %d names, this test knows 12", n)
	}
}

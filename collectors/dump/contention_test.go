package dump

import (
	"strings"
	"testing"

	"github.com/asyncmon/asyncmon/model"
)

func TestParseContention(t *testing.T) {
	in := "--- mutex:\ncycles/second=1000000000\nsampling period=10\n" +
		"5000000 3 @ 0x4710e5 0x4a0c33\n" +
		"#\t0x4710e4\tsync.(*Mutex).Unlock+0x44\t\t/go/src/sync/mutex.go:229\n" +
		"#\t0x4a0c32\tmain.critical+0x32\t\t\t/src/main.go:12\n\n"
	cp, err := ParseContention(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if cp.Name != "mutex" || cp.CyclesPerSecond != 1e9 || cp.SamplingPeriod != 10 || len(cp.Records) != 1 {
		t.Fatalf("got %+v", cp)
	}
	r := cp.Records[0]
	if r.Count != 3 || r.Cycles != 5e6 || len(r.Frames) != 2 || r.Frames[1] != (model.Frame{Func: "main.critical", File: "/src/main.go", Line: 12}) {
		t.Errorf("record = %+v", r)
	}
	if _, err := ParseContention(strings.NewReader("--- mutex:\nbogus line\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("err = %v, want one naming line 2", err)
	}
}

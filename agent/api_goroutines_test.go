package agent

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/internal/workload"
	"github.com/asyncmon/asyncmon/model"
)

func TestGoroutinesEndpoint(t *testing.T) {
	w := workload.Start(workload.Counts{Recv: 40, Mutex: 7})
	defer w.Stop()
	a := start(t, Options{Interval: 20 * time.Millisecond})
	base := "http://" + a.Addr() + "/api/v1/goroutines"

	// The table refreshes within its CPU budget (at least every 2 s).
	var tb model.GoroutineTable
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := get(t, base+"?filter=internal/workload&sort=count")
		if code != 200 {
			t.Fatalf("status %d: %s", code, body)
		}
		tb = model.GoroutineTable{}
		if err := json.Unmarshal([]byte(body), &tb); err != nil {
			t.Fatal(err)
		}
		if len(tb.Groups) == 2 && tb.Groups[0].Count == 40 && tb.Groups[1].Count == 7 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never got the workload's groups: %s", body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if tb.Groups[0].WaitReason != model.WaitChanRecv || tb.Groups[1].WaitReason != model.WaitMutex {
		t.Errorf("wait reasons %q, %q", tb.Groups[0].WaitReason, tb.Groups[1].WaitReason)
	}
	if tb.Matched != 2 || tb.GroupsTotal < 2 || tb.Time.IsZero() || tb.ByWaitReason[model.WaitChanRecv] < 40 {
		t.Errorf("table header: %+v", tb)
	}

	for _, tt := range []struct {
		query string
		check func(model.GoroutineTable) bool
	}{
		{"?filter=internal/workload&sort=count&order=asc", func(tb model.GoroutineTable) bool { return tb.Groups[0].Count == 7 }},
		{"?filter=internal/workload&wait_reason=mutex", func(tb model.GoroutineTable) bool { return len(tb.Groups) == 1 && tb.Groups[0].Count == 7 }},
		{"?filter=internal/workload&limit=1", func(tb model.GoroutineTable) bool { return len(tb.Groups) == 1 && tb.Matched == 2 }},
		{"?filter=no-such-thing", func(tb model.GoroutineTable) bool { return len(tb.Groups) == 0 && tb.Groups != nil }},
		{"?sort=site", func(tb model.GoroutineTable) bool { return len(tb.Groups) >= 2 }},
	} {
		code, body := get(t, base+tt.query)
		var got model.GoroutineTable
		if err := json.Unmarshal([]byte(body), &got); code != 200 || err != nil || !tt.check(got) {
			t.Errorf("%s: status %d, %v: %s", tt.query, code, err, body)
		}
	}
	// A full dump on request: IDs and creators; then rate limited.
	code, body := get(t, base+"?full=1&filter=internal/workload&wait_reason=chan+receive")
	var full model.GoroutineTable
	if err := json.Unmarshal([]byte(body), &full); code != 200 || err != nil || len(full.Groups) != 1 ||
		full.Groups[0].Count != 40 || len(full.Groups[0].SampleIDs) == 0 || full.Groups[0].CreatedBy.IsZero() {
		t.Errorf("full=1: status %d, %v: %s", code, err, body)
	}
	if code, body := get(t, base+"?full=1"); code != 429 || !strings.Contains(body, `"error"`) {
		t.Errorf("second full=1: status %d, body %s; want 429", code, body)
	}

	for _, q := range []string{"?sort=nope", "?order=up", "?wait_reason=napping", "?limit=0", "?limit=x", "?bogus=1", "?full=yes"} {
		code, body := get(t, base+q)
		if code != 400 || !strings.Contains(body, `"error"`) {
			t.Errorf("%s: status %d, body %s; want 400 with a JSON error", q, code, body)
		}
	}

	_, metrics := get(t, "http://"+a.Addr()+"/metrics")
	for _, want := range []string{
		`asyncmon_goroutines_by_wait_reason{reason="chan receive"}`,
		`asyncmon_goroutines_by_wait_reason{reason="other"} `,
		"asyncmon_goroutine_groups ",
		`asyncmon_goroutine_group_goroutines{site="workload.Receiver (workload.go:`,
		"asyncmon_block_delay_seconds_total ",
		"asyncmon_mutex_events_total ",
		"asyncmon_mutex_profile_fraction ",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if n := strings.Count(metrics, "asyncmon_goroutine_group_goroutines{"); n > topGroupSeries {
		t.Errorf("%d group series, want at most %d", n, topGroupSeries)
	}
}

package demo

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/detectors"
	"github.com/asyncmon/asyncmon/model"
)

// TestConnLeakScenario runs the scenario with the agent and checks that
// the conn-leak detector names both buggy lines: the body left open in
// fetchRate and the rows left open in orderTotal.
func TestConnLeakScenario(t *testing.T) {
	d, err := Start(context.Background(), Options{Addr: "127.0.0.1:0", AgentAddr: "127.0.0.1:0", Scenario: "conn-leak", LoadRate: 20})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	det := detectors.NewConnLeak(detectors.ConnLeakConfig{})

	want := map[string]string{ // finding ID prefix → function named in the summary
		"conn-leak:leak:http-body:": "fetchRate",
		"conn-leak:leak:sql-rows:":  "orderTotal",
	}
	found := map[string]model.Finding{}
	deadline := time.Now().Add(60 * time.Second)
	for len(found) < len(want) {
		if time.Now().After(deadline) {
			t.Fatalf("after 60s found %d of %d findings: %v", len(found), len(want), found)
		}
		for _, f := range det.Detect(d.Agent().Window(0)) {
			for prefix := range want {
				if strings.HasPrefix(f.ID, prefix) {
					found[prefix] = f
				}
			}
		}
		time.Sleep(100 * time.Millisecond) // polling interval
	}
	for prefix, fn := range want {
		f := found[prefix]
		if !strings.Contains(f.Subject, "scenario_connleak.go:") || !strings.Contains(f.Summary, fn) {
			t.Errorf("%s: subject %q, summary %q; want scenario_connleak.go:LINE and %s", f.ID, f.Subject, f.Summary, fn)
		}
	}
	t.Logf("findings: %s | %s", found["conn-leak:leak:http-body:"].Title, found["conn-leak:leak:sql-rows:"].Title)

	resp, err := http.Get("http://" + d.Agent().Addr() + "/api/v1/connections?sort=age")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var cs model.Connections
	if err := json.NewDecoder(resp.Body).Decode(&cs); err != nil {
		t.Fatal(err)
	}
	if cs.OpenByKind[model.ConnServer] == 0 || cs.OpenByKind[model.ConnSQL] == 0 || len(cs.Pools) != 1 || len(cs.Open) == 0 {
		t.Errorf("/api/v1/connections: open by kind %v, %d pools, %d listed", cs.OpenByKind, len(cs.Pools), len(cs.Open))
	}
	if err := d.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

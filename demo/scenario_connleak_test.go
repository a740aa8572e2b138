package demo

import (
	"context"
	"encoding/json"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/detectors/connleak"
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
	det := connleak.New(connleak.Config{})

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

// TestHealthyDemoHasNoConnLeak: the healthy service, whose listener and
// client are tracked, closes everything; after garbage collections there
// is nothing for conn-leak to say.
func TestHealthyDemoHasNoConnLeak(t *testing.T) {
	d, err := Start(context.Background(), Options{Addr: "127.0.0.1:0", AgentAddr: "127.0.0.1:0", LoadRate: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, _ := d.Served()
		if ok >= 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("served %d requests in 20s, want 200", ok)
		}
		runtime.GC()
		time.Sleep(50 * time.Millisecond) // polling interval
	}
	runtime.GC()
	seq := d.Agent().Latest().Seq
	for d.Agent().Latest().Seq < seq+2 { // a snapshot taken after the GC
		if time.Now().After(deadline) {
			t.Fatal("no new snapshot")
		}
		time.Sleep(10 * time.Millisecond) // polling interval
	}
	s := d.Agent().Latest()
	if n := s.Connections.OpenByKind[model.ConnServer] + s.Connections.OpenByKind[model.ConnClient]; n == 0 {
		t.Errorf("no tracked connections in the healthy demo: %v", s.Connections.OpenByKind)
	}
	for k, n := range s.Connections.LeakedTotal {
		if n != 0 {
			t.Errorf("healthy demo leaked %d %s", n, k)
		}
	}
	if fs := connleak.New(connleak.Config{}).Detect(d.Agent().Window(0)); len(fs) != 0 {
		t.Errorf("conn-leak findings on the healthy demo: %v", fs)
	}
}

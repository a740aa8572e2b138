package demo

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestHealthyDemoServesLoad(t *testing.T) {
	d, err := Start(context.Background(), Options{Addr: "127.0.0.1:0", AgentAddr: "127.0.0.1:0", LoadRate: 200})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, _ := d.Served()
		if ok >= 50 {
			break
		}
		if time.Now().After(deadline) {
			ok, failed := d.Served()
			t.Fatalf("served %d requests (%d failed) in 10s, want 50", ok, failed)
		}
		time.Sleep(20 * time.Millisecond)
	}
	resp, err := http.Get(d.URL() + "/api/quote?item=7")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"price":11.75`) {
		t.Errorf("quote: %d %s", resp.StatusCode, body)
	}
	resp, err = http.Get(d.URL() + "/api/quote?item=x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad item: status %d, want 400", resp.StatusCode)
	}
	// The workers park on the job channel: the agent sees them waiting.
	if s := d.Agent().Latest(); s.Goroutines.Total < defaultWorkers {
		t.Errorf("agent sees %d goroutines, want >= %d", s.Goroutines.Total, defaultWorkers)
	}
	if err := d.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestParseScenario(t *testing.T) {
	for _, name := range []string{"", "healthy", "all"} {
		if _, err := ParseScenario(name); err != nil {
			t.Errorf("ParseScenario(%q): %v", name, err)
		}
	}
	_, err := ParseScenario("nonsense")
	if err == nil || !strings.Contains(err.Error(), "healthy") {
		t.Errorf("ParseScenario(nonsense) = %v, want an error listing the known names", err)
	}
}

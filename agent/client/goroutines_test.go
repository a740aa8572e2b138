package client_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/agent/client"
	"github.com/asyncmon/asyncmon/internal/workload"
	"github.com/asyncmon/asyncmon/model"
)

func TestGoroutines(t *testing.T) {
	w := workload.Start(workload.Counts{Recv: 12})
	defer w.Stop()
	a := startAgent(t)
	c, err := client.New(a.Addr())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for {
		tb, err := c.Goroutines(ctx, client.GoroutinesQuery{Filter: workload.ReceiverFunc, WaitReason: model.WaitChanRecv, Limit: 5})
		if err != nil {
			t.Fatal(err)
		}
		if len(tb.Groups) == 1 && tb.Groups[0].Count == 12 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never saw the 12 receivers: %+v", tb)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var apiErr *client.APIError
	if _, err := c.Goroutines(ctx, client.GoroutinesQuery{Sort: "nope"}); !errors.As(err, &apiErr) {
		t.Errorf("bad sort: err = %v, want an *APIError", err)
	}
	tb, err := c.Goroutines(ctx, client.GoroutinesQuery{Full: true, Filter: workload.ReceiverFunc})
	if err != nil || len(tb.Groups) != 1 || len(tb.Groups[0].SampleIDs) == 0 {
		t.Fatalf("full: %v, %+v", err, tb)
	}
	if _, err := c.Goroutines(ctx, client.GoroutinesQuery{Full: true}); !errors.As(err, &apiErr) || apiErr.StatusCode != 429 {
		t.Errorf("second full: err = %v, want a 429 *APIError", err)
	}
}

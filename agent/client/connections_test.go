package client_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/agent/client"
	"github.com/asyncmon/asyncmon/model"
)

func TestConnections(t *testing.T) {
	a := startAgent(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	srv.Listener = a.WrapListener(srv.Listener)
	srv.Start()
	defer srv.Close()
	hc := &http.Client{Transport: a.HTTPTransport(nil)}
	defer hc.CloseIdleConnections()
	resp, err := hc.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close() // open until the end: one http-body

	c, err := client.New(a.Addr())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for {
		cs, err := c.Connections(ctx, client.ConnectionsFilter{Kind: model.ConnHTTPBody, Sort: "idle", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(cs.Open) == 1 && cs.Open[0].Kind == model.ConnHTTPBody && cs.OpenByKind[model.ConnServer] == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("connections: %+v", cs)
		}
		time.Sleep(10 * time.Millisecond) // polling interval
	}
	_, err = c.Connections(ctx, client.ConnectionsFilter{Sort: "newest"})
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest {
		t.Errorf("bad sort: got %v, want a 400 APIError", err)
	}
}

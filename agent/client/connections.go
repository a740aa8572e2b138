package client

import (
	"context"
	"net/url"
	"strconv"

	"github.com/asyncmon/asyncmon/model"
)

// ConnectionsFilter narrows and orders Connections. The zero value asks
// for every listed connection, oldest first.
type ConnectionsFilter struct {
	// Sort is "age" (oldest first), "idle" (longest idle first) or
	// "bytes" (most bytes first). Optional. Default "age".
	Sort string
	// Kind keeps one kind (model.ConnServer, model.ConnHTTPBody, ...).
	// Optional: all.
	Kind string
	// Pool keeps one pool's connections, rows and transactions.
	// Optional: all.
	Pool string
	// Limit keeps the first N after sorting. Optional: all.
	Limit int
}

// Connections returns the tracked connections, counts, definite leaks and
// pools of the agent's latest snapshot. The filter applies to the open
// connections and leaks; counts and pools are never filtered.
func (c *Client) Connections(ctx context.Context, f ConnectionsFilter) (*model.Connections, error) {
	q := url.Values{}
	if f.Sort != "" {
		q.Set("sort", f.Sort)
	}
	if f.Kind != "" {
		q.Set("kind", f.Kind)
	}
	if f.Pool != "" {
		q.Set("pool", f.Pool)
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	path := "/api/v1/connections"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out model.Connections
	if err := c.Get(ctx, path, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

package client

import (
	"context"
	"net/url"
	"strconv"

	"github.com/asyncmon/asyncmon/model"
)

// GoroutinesQuery selects and orders the rows of Goroutines. The zero
// value asks for every group, largest first.
type GoroutinesQuery struct {
	// Sort is "count", "delta", "wait" or "site". Optional. Default count.
	Sort string
	// Asc sorts ascending. Optional. Default descending (ascending for
	// site).
	Asc bool
	// Filter keeps groups with this substring in a frame, site, label or
	// wait reason. Optional.
	Filter string
	// WaitReason keeps groups with this wait reason. Optional.
	WaitReason string
	// Limit keeps the first N groups. Optional. Default all.
	Limit int
	// Full asks for a table from a full dump taken now (goroutine IDs,
	// wait minutes, creation sites). It stops the target's world for the
	// walk and the agent allows one a minute: an *APIError with status
	// 429 in between. Optional.
	Full bool
}

// Goroutines returns the agent's goroutine group table.
func (c *Client) Goroutines(ctx context.Context, q GoroutinesQuery) (*model.GoroutineTable, error) {
	v := url.Values{}
	if q.Sort != "" {
		v.Set("sort", q.Sort)
	}
	if q.Asc {
		v.Set("order", "asc")
	}
	if q.Filter != "" {
		v.Set("filter", q.Filter)
	}
	if q.WaitReason != "" {
		v.Set("wait_reason", q.WaitReason)
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Full {
		v.Set("full", "1")
	}
	path := "/api/v1/goroutines"
	if len(v) > 0 {
		path += "?" + v.Encode()
	}
	var t model.GoroutineTable
	if err := c.Get(ctx, path, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

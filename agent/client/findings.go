package client

import (
	"context"
	"net/url"

	"github.com/asyncmon/asyncmon/model"
)

// FindingsFilter narrows Findings. The zero value asks for all findings.
type FindingsFilter struct {
	// State is "firing", "pending", "resolved" or "active" (firing and
	// pending). Optional: all.
	State string
	// Detector keeps one detector's findings. Optional: all.
	Detector string
}

// Findings returns the agent's findings: firing and pending ones first,
// most severe first, then recently resolved ones, newest first.
func (c *Client) Findings(ctx context.Context, f FindingsFilter) ([]model.Finding, error) {
	q := url.Values{}
	if f.State != "" {
		q.Set("state", f.State)
	}
	if f.Detector != "" {
		q.Set("detector", f.Detector)
	}
	path := "/api/v1/findings"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out []model.Finding
	if err := c.Get(ctx, path, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Captures returns the agent's evidence captures, newest first. Download
// one with Download(ctx, "/api/v1/captures/"+id, w).
func (c *Client) Captures(ctx context.Context) ([]model.Capture, error) {
	var out []model.Capture
	if err := c.Get(ctx, "/api/v1/captures", &out); err != nil {
		return nil, err
	}
	return out, nil
}

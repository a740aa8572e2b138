package tui

import (
	"context"
	"fmt"

	"github.com/asyncmon/asyncmon/model"
	"github.com/asyncmon/asyncmon/tui/internal/fixture"
)

// t0 is the fixed start of the fixture timeline.

// fakeSource emits whatever the test sends on its channel.
type fakeSource struct {
	updates chan Update
	saved   chan string
}

func newFakeSource() *fakeSource {
	return &fakeSource{updates: make(chan Update), saved: make(chan string, 10)}
}

func (s *fakeSource) Target() string { return "127.0.0.1:6060" }

func (s *fakeSource) Run(ctx context.Context, emit func(Update)) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case u := <-s.updates:
			emit(u)
		}
	}
}

func (s *fakeSource) SaveCapture(ctx context.Context, id, dir string) (string, error) {
	p := fmt.Sprintf("%s/asyncmon-%s.pb.gz", dir, id)
	s.saved <- p
	return p, nil
}

// liveUpdate is a connected-agent update with the first n fixture
// snapshots and the fixture findings.
func liveUpdate(n int) Update {
	u := Update{Status: &Status{State: StateLive, Mode: "agent"}, Findings: fixtureFindings(), HasFindings: true}
	for i := range n {
		u.Snapshots = append(u.Snapshots, fixtureSnapshot(i))
	}
	return u
}

var t0 = fixture.T0

func fixtureSnapshot(i int) *model.Snapshot { return fixture.Snapshot(i) }

func fixtureFindings() []model.Finding { return fixture.Findings() }

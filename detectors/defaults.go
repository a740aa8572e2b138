package detectors

import (
	"github.com/asyncmon/asyncmon/detectors/connleak"
	"github.com/asyncmon/asyncmon/model"
)

// Defaults returns the built-in detectors with their default thresholds:
// starvation, goroutine leak, deadlock-like stall, stuck requests and
// connection leaks.
func Defaults() []model.Detector {
	return []model.Detector{
		NewStarvation(StarvationConfig{}),
		NewLeak(LeakConfig{}),
		NewStall(StallConfig{}),
		NewStuckRequests(StuckConfig{}),
		connleak.New(connleak.Config{}),
	}
}

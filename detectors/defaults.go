package detectors

import (
	"github.com/asyncmon/asyncmon/detectors/connleak"
	"github.com/asyncmon/asyncmon/detectors/failures"
	"github.com/asyncmon/asyncmon/model"
)

// Defaults returns the built-in detectors with their default thresholds:
// starvation, goroutine leak, deadlock-like stall, stuck requests,
// connection leaks, panics, calls without a deadline, request overload
// and crashes of an earlier run.
func Defaults() []model.Detector {
	return []model.Detector{
		NewStarvation(StarvationConfig{}),
		NewLeak(LeakConfig{}),
		NewStall(StallConfig{}),
		NewStuckRequests(StuckConfig{}),
		connleak.New(connleak.Config{}),
		failures.NewPanics(failures.PanicConfig{}),
		failures.NewNoDeadline(failures.NoDeadlineConfig{}),
		failures.NewOverload(failures.OverloadConfig{}),
		failures.NewCrash(failures.CrashConfig{}),
	}
}

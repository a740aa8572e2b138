package detectors

import (
	"time"

	"github.com/asyncmon/asyncmon/detectors/connleak"
	"github.com/asyncmon/asyncmon/detectors/failures"
	"github.com/asyncmon/asyncmon/model"
)

// LiveOnly is a detector that cannot judge a single goroutine dump, and why.
type LiveOnly struct {
	Name string `json:"name"`
	Why  string `json:"why"`
}

// ForDump returns the detectors that can judge a single goroutine dump,
// seen as a one-snapshot window: the goroutine leak detector (groups the
// runtime's goroutineleak profile flags, and groups parked for five
// minutes or more by the dump's own wait times) and the deadlock
// detector (lock waits of a minute or more, and a process where nothing
// can make progress). Dumps give waits in whole minutes, so shorter
// stalls are not seen. A dump that is a crash's output (a panic, a fatal
// error) also gets the crash detector's finding. The second result names the detectors that need
// a live agent.
func ForDump() ([]model.Detector, []LiveOnly) {
	return []model.Detector{
			NewLeak(LeakConfig{}),
			NewStall(StallConfig{StallFor: time.Minute}),
			failures.NewCrash(failures.CrashConfig{}),
		}, []LiveOnly{
			{StarvationName, "needs scheduler latency over time, which only a live agent measures"},
			{StuckName, "needs the agent's request middleware"},
			{LeakName + " (growth)", "a growing group needs group tables over time; one dump shows parked groups only"},
			{connleak.Name, "needs the connection tracker in the live process; one dump cannot tell whether parked HTTP read loops are rising"},
		}
}

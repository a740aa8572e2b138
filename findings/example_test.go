package findings_test

import (
	"fmt"
	"time"

	"github.com/asyncmon/asyncmon/findings"
	"github.com/asyncmon/asyncmon/model"
)

// fdPressure is a custom detector: file descriptors above 90% of the
// limit. It is a pure function of the window.
type fdPressure struct{}

func (fdPressure) Name() string { return "fd-pressure" }

func (fdPressure) Detect(w model.Window) []model.Finding {
	s := w.Latest()
	if s == nil || s.Process.FDLimit == 0 || s.Process.FDs*10 < s.Process.FDLimit*9 {
		return nil
	}
	return []model.Finding{{
		Level:    model.LevelWarning,
		Title:    "File descriptors near the limit",
		Summary:  fmt.Sprintf("%d of %d file descriptors in use.", s.Process.FDs, s.Process.FDLimit),
		Subject:  "process",
		Evidence: model.Evidence{Numbers: map[string]float64{"fds": float64(s.Process.FDs)}},
	}}
}

// An engine runs detectors over windows and keeps their findings'
// lifecycle: here the condition must hold for 2s before it fires.
func ExampleEngine() {
	e, err := findings.NewEngine(findings.Config{
		Rules: map[string]findings.Rule{"fd-pressure": {For: 2 * time.Second}},
	}, fdPressure{})
	if err != nil {
		fmt.Println(err)
		return
	}
	start := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	var w model.Window
	for i := range 4 {
		w.Snapshots = append(w.Snapshots, &model.Snapshot{
			Time:    start.Add(time.Duration(i) * time.Second),
			Process: model.Process{FDs: 950, FDLimit: 1024},
		})
		res := e.Run(w)
		for _, f := range res.Fired {
			fmt.Printf("t=%ds %s fired: %s\n", i, f.ID, f.Summary)
		}
	}
	f, _ := e.Finding("fd-pressure:process")
	fmt.Println(f.State, "since", f.FirstSeen.Format(time.TimeOnly))
	// Output:
	// t=2s fd-pressure:process fired: 950 of 1024 file descriptors in use.
	// firing since 00:00:00
}

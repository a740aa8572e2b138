package detectors

import (
	"sort"
	"time"

	"github.com/asyncmon/asyncmon/model"
)

// sinceTime returns the snapshots of w taken at or after t, like
// model.Window.Since, by binary search: the agent's history can hold tens
// of thousands of snapshots at short intervals, and detectors look only at
// its recent end.
func sinceTime(w model.Window, t time.Time) model.Window {
	i := sort.Search(len(w.Snapshots), func(i int) bool { return !w.Snapshots[i].Time.Before(t) })
	if i == len(w.Snapshots) {
		return model.Window{}
	}
	return model.Window{Snapshots: w.Snapshots[i:]}
}

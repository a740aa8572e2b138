package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/asyncmon/asyncmon/agent/client"
	"github.com/asyncmon/asyncmon/internal/offline"
	"github.com/asyncmon/asyncmon/model"
)

// result is what a watch saw.
type result struct {
	Target     string
	Server     string // what the target is, when known
	Samples    int    // goroutine profiles read and judged
	Goroutines int    // in the last one
	Groups     int    // in the last one
	// Alarms are the warning and critical findings that fired, by
	// detector and subject; Others the info findings and those that
	// never fired.
	Alarms, Others []model.Finding
}

// watch reads base's goroutine, block and mutex profiles every interval
// for dur through the same path as "asyncmon attach" to a pprof-only
// target, and collects the findings.
func watch(ctx context.Context, base string, dur, every time.Duration, log io.Writer) (*result, error) {
	c, err := client.New(base)
	if err != nil {
		return nil, err
	}
	r := &result{Target: base}
	series := offline.NewSeries()
	seen := map[string]model.Finding{}
	end := time.Now().Add(dur)
	var prev time.Time
	for seq := uint64(1); ; seq++ {
		start := time.Now()
		var g bytes.Buffer
		if _, err := c.Download(ctx, "/debug/pprof/goroutine?debug=0", &g); err != nil {
			return r, fmt.Errorf("read the goroutine profile: %w", err)
		}
		snap := &model.Snapshot{Seq: seq, Time: start, GroupTable: model.GroupTable{GroupsTime: start}}
		if !prev.IsZero() {
			snap.IntervalSeconds = start.Sub(prev).Seconds()
		}
		prev = start
		block, mutex := profile(ctx, c, "block"), profile(ctx, c, "mutex")
		fs, note := series.Sample(&g, block, mutex, snap)
		if fs == nil {
			return r, fmt.Errorf("the dump detectors could not start (%s)", note)
		}
		r.Samples++
		r.Goroutines, r.Groups = snap.Goroutines.Total, len(snap.Groups)
		for _, f := range fs {
			key := f.Detector + " " + f.Subject
			old, ok := seen[key]
			if !ok || f.State == model.StateFiring && old.State != model.StateFiring {
				seen[key] = f
				if f.State == model.StateFiring {
					fmt.Fprintf(log, "%s: %s %s fired: %s\n", start.Format(time.TimeOnly), f.Level, f.Detector, f.Title)
				}
			}
		}
		if note != "" {
			fmt.Fprintf(log, "%s: note: %s\n", start.Format(time.TimeOnly), note)
		}
		if time.Now().Add(every).After(end) {
			break
		}
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-time.After(every - time.Since(start)):
		}
	}
	for _, f := range seen {
		if f.State == model.StateFiring && f.Level.Rank() >= model.LevelWarning.Rank() {
			r.Alarms = append(r.Alarms, f)
		} else {
			r.Others = append(r.Others, f)
		}
	}
	byKey := func(a, b model.Finding) int { return strings.Compare(a.Detector+a.Subject, b.Detector+b.Subject) }
	slices.SortFunc(r.Alarms, byKey)
	slices.SortFunc(r.Others, byKey)
	return r, nil
}

// profile reads a contention profile's debug=1 text, or nil when the
// target does not serve it.
func profile(ctx context.Context, c *client.Client, name string) io.Reader {
	var buf bytes.Buffer
	if _, err := c.Download(ctx, "/debug/pprof/"+name+"?debug=1", &buf); err != nil {
		return nil
	}
	return &buf
}

// write prints the result.
func (r *result) write(w io.Writer) {
	what := r.Target
	if r.Server != "" {
		what = r.Server + " at " + r.Target
	}
	fmt.Fprintf(w, "watched %s: %d samples; %d goroutines in %d groups at the end\n", what, r.Samples, r.Goroutines, r.Groups)
	if len(r.Alarms) == 0 {
		fmt.Fprintln(w, "no warning or critical finding fired")
	}
	for _, f := range r.Alarms {
		fmt.Fprintf(w, "ALARM %s %s: %s\n  %s\n", f.Level, f.Detector, f.Title, f.Summary)
	}
	for _, f := range r.Others {
		fmt.Fprintf(w, "other: %s %s %s: %s\n", f.State, f.Level, f.Detector, f.Title)
	}
}

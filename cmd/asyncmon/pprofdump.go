package main

import (
	"fmt"
	"io"

	"github.com/asyncmon/asyncmon/collectors"
	"github.com/asyncmon/asyncmon/model"
)

// pprofMaxGroups bounds the group table of a pprof-only target, as the
// agent's own goroutine collector bounds its table.
const pprofMaxGroups = 1000

// dumpAnalyzer turns successive goroutine dumps into snapshot sections
// with the agent's parser and grouper: groups with their change since the
// previous dump, and goroutine counts by wait reason.
type dumpAnalyzer struct {
	gr *collectors.Grouper
}

func newDumpAnalyzer() *dumpAnalyzer {
	return &dumpAnalyzer{gr: collectors.NewGrouper(collectors.GroupOptions{MaxGroups: pprofMaxGroups})}
}

// add parses the dump r into snap. It returns the findings of the
// detectors that run on dumps, nil while this build runs none on
// pprof-only targets, and the parse problem, if any (a dump with
// malformed lines still fills snap).
func (a *dumpAnalyzer) add(r io.Reader, snap *model.Snapshot) ([]model.Finding, error) {
	d, err := collectors.ParseDump(r)
	if d == nil || (len(d.Goroutines) == 0 && len(d.Records) == 0) {
		return nil, err
	}
	var t *collectors.GroupTable
	if d.Format == collectors.FormatProfile {
		t = a.gr.GroupRecords(d.Records)
	} else {
		t = a.gr.Group(d.Goroutines)
	}
	snap.Groups = t.Groups
	snap.GroupsTotal = t.Total
	snap.GroupsTruncated = t.Truncated
	g := &snap.Goroutines
	g.Total = t.Goroutines
	g.ByWaitReason = t.ByWaitReason
	g.Running = t.ByWaitReason[model.WaitRunning]
	g.Runnable = t.ByWaitReason[model.WaitRunnable]
	g.NotInGo = t.ByWaitReason[model.WaitSyscall]
	g.Waiting = g.Total - g.Running - g.Runnable - g.NotInGo
	if d.Truncated && err == nil {
		err = fmt.Errorf("the dump was cut off; groups cover the goroutines before the cut")
	}
	return nil, err
}

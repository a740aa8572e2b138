package main

import (
	"errors"
	"io"

	"github.com/asyncmon/asyncmon/model"
)

// dumpAnalyzer turns successive goroutine dumps into snapshot sections
// (groups with deltas, counts by wait reason) and findings.
type dumpAnalyzer struct{}

func newDumpAnalyzer() *dumpAnalyzer { return &dumpAnalyzer{} }

// errNoParser: the goroutine dump parser lands with the collectors'
// goroutine work; until then pprof-only targets show no groups.
var errNoParser = errors.New("this build has no goroutine dump parser yet")

// add parses the dump r into snap and returns the findings of the
// detectors that run on dumps (nil when there are none).
func (a *dumpAnalyzer) add(r io.Reader, snap *model.Snapshot) ([]model.Finding, error) {
	return nil, errNoParser
}

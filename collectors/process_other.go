//go:build !linux

package collectors

import "github.com/asyncmon/asyncmon/model"

// readProcess is a no-op where /proc and cgroups do not exist; the process
// fields it would fill stay zero.
func readProcess(p *model.Process) error { return nil }

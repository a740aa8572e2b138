//go:build !linux

package collectors

import "github.com/asyncmon/asyncmon/model"

// readProcess is a no-op where /proc and cgroups do not exist; the process
// fields it would fill stay zero.
func readProcess(p *model.Process) error { return nil }

// readHostCPU is unknown where /proc/stat does not exist.
func readHostCPU() (busy, total uint64, err error) { return 0, 0, nil }

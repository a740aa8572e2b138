//go:build !linux

package runner

import "os/exec"

// setDeathSignal does nothing outside Linux: the runner's context still
// kills every child when it ends or is interrupted.
func setDeathSignal(*exec.Cmd) {}

package runner

import (
	"os/exec"
	"syscall"
)

// setDeathSignal makes the kernel kill the child if the runner dies
// (even by SIGKILL), so no program outlives it.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

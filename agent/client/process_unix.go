//go:build unix

package client

import (
	"errors"
	"syscall"
)

// processGone reports whether no process has the PID. A process of
// another user (EPERM) still exists.
func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

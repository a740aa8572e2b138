//go:build unix

package registry

import (
	"errors"
	"os"
	"syscall"
)

// fileOwner returns the uid owning the file, where the platform tells.
func fileOwner(fi os.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}

// processGone reports whether no process has the PID. A process of
// another user (EPERM) still exists.
func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

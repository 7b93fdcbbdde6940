//go:build unix && !linux

package ecsdproc

import "syscall"

// sysProcAttr: ecsd in its own process group if asked.
func sysProcAttr(ownGroup bool) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: ownGroup}
}

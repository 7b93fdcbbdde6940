package ecsdproc

import "syscall"

// sysProcAttr: ecsd dies with its parent (a test binary killed by its
// timeout leaves no server behind), in its own process group if asked.
func sysProcAttr(ownGroup bool) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: ownGroup, Pdeathsig: syscall.SIGKILL}
}

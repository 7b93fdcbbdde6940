//go:build linux || darwin || freebsd || netbsd || openbsd

package lb

import (
	"syscall"
	"unsafe"
)

// peek is the rc.Read callback of alive: a non-blocking MSG_PEEK of one
// byte. Nothing to read (EAGAIN) means alive; end of stream, data nobody
// asked for or any other error means the connection is not to be used.
func (bc *backendConn) peek(fd uintptr) bool {
	_, _, errno := syscall.Syscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&bc.peekBuf[0])), 1,
		syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
	bc.peekAlive = errno == syscall.EAGAIN || errno == syscall.EWOULDBLOCK
	return true
}

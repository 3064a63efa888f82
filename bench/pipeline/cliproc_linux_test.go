package pipeline

import "syscall"

// dieWithParent has the kernel send SIGTERM to the child when the
// benchmark process dies.
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}

package executor

import "syscall"

// taskSysProcAttr starts a task in its own process group (cancellation
// kills the group) with a parent-death signal: when the emulator is killed
// and cannot cancel its tasks, the kernel kills each task's process.
func taskSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

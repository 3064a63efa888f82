//go:build !linux

package executor

import "syscall"

// taskSysProcAttr starts a task in its own process group (cancellation
// kills the group). Only Linux has a parent-death signal.
func taskSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

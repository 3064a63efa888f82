//go:build !linux

package azurite

import "syscall"

// sysProcAttr puts Azurite in its own process group. Only Linux has a
// parent-death signal; elsewhere Stop must run.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

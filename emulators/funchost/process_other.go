//go:build unix && !linux

package funchost

import "syscall"

// handlerSysProcAttr starts the handler in its own process group. Only
// Linux has a parent-death signal: elsewhere a killed funchost leaves the
// handler running.
func handlerSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

package funchost

import "syscall"

// handlerSysProcAttr starts the handler in its own process group with a
// parent-death signal: when funchost is killed (and so cannot stop the
// handler), the kernel kills the handler too. SIGKILL, because the host
// never stops a handler gracefully either (killGroup).
func handlerSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

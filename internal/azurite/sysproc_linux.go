package azurite

import "syscall"

// sysProcAttr puts Azurite in its own process group (Stop signals the
// group) and has the kernel send it SIGTERM when the process that started
// it dies, however it dies, so a killed test or ffbatch leaves no Azurite
// behind. Azurite shuts down on SIGTERM.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

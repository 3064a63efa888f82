//go:build unix

package funchost

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// setProcessGroup puts the handler in its own process group so that killing
// it also kills anything it started, and the group is killed when the
// command's context ends. On Linux the handler also gets SIGKILL when the
// host dies, however it dies (see handlerSysProcAttr).
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = handlerSysProcAttr()
	cmd.Cancel = func() error { return killGroup(cmd.Process) }
}

// killGroup sends SIGKILL to the process group of p, as the real host's
// Process.Kill() does to the handler (there is no graceful SIGTERM).
func killGroup(p *os.Process) error {
	if p == nil {
		return nil
	}
	err := syscall.Kill(-p.Pid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return os.ErrProcessDone
	}
	return err
}

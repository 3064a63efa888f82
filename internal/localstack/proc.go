package localstack

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// startMarker begins the line written to a log before each start.
const startMarker = "---- "

// proc is one child process of the stack. The fields set before start are
// read-only afterwards; mu guards cmd, done and exitErr across restarts.
type proc struct {
	name    string
	bin     string
	args    []string
	env     []string
	dir     string
	logPath string

	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{} // closed when the current process has exited
	exitErr error         // the current process's Wait result, valid after done
	log     *os.File
}

// start launches the process in its own process group, appending its
// output to logPath.
func (p *proc) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(p.logPath), 0o755); err != nil {
		return fmt.Errorf("start %s: create log dir: %w", p.name, err)
	}
	lf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("start %s: open log: %w", p.name, err)
	}
	fmt.Fprintf(lf, "%s%s: starting %s %s\n", startMarker, time.Now().UTC().Format(time.RFC3339), p.bin, strings.Join(p.args, " "))
	cmd := exec.Command(p.bin, p.args...)
	cmd.Dir = p.dir
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = lf, lf
	// Own process group: a Ctrl-C in the terminal reaches only ffbatch,
	// which then stops the children in order; Pdeathsig covers ffbatch
	// itself being killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	done := make(chan struct{})
	p.cmd, p.done, p.log, p.exitErr = cmd, done, lf, nil
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.exitErr = err
		p.mu.Unlock()
		lf.Close()
		close(done)
	}()
	return nil
}

// exited returns the channel closed when the current process exits.
func (p *proc) exited() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done == nil {
		c := make(chan struct{})
		close(c)
		return c
	}
	return p.done
}

// pid is the current process id, 0 if never started.
func (p *proc) pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// exitError describes how the current process ended.
func (p *proc) exitError() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	err := p.exitErr
	if err == nil {
		err = errors.New("code 0")
	}
	if last := lastOutputLine(p.logPath); last != "" {
		return fmt.Errorf("%s exited: %w (log: %s)\n  its last output: %s", p.name, err, p.logPath, last)
	}
	return fmt.Errorf("%s exited: %w (log: %s)", p.name, err, p.logPath)
}

// maxShownLine bounds the output line an exit error quotes.
const maxShownLine = 2000

// lastOutputLine is the last non-empty line a process wrote to its log
// since its latest start marker: by convention of the stack's binaries,
// the error they exit with. "" when there is none.
func lastOutputLine(logPath string) string {
	f, err := os.Open(logPath)
	if err != nil {
		return ""
	}
	defer f.Close()
	const tail = 16 << 10
	if st, err := f.Stat(); err == nil && st.Size() > tail {
		_, _ = f.Seek(st.Size()-tail, io.SeekStart)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return ""
	}
	out := string(b)
	if i := strings.LastIndex(out, "\n"+startMarker); i >= 0 {
		out = out[i+1:]
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	if strings.HasPrefix(last, startMarker) {
		return ""
	}
	if len(last) > maxShownLine {
		last = last[:maxShownLine] + "…"
	}
	return last
}

// stop sends SIGTERM to the process group, waits up to grace, then sends
// SIGKILL and waits for the exit. It is a no-op for a process that exited.
func (p *proc) stop(grace time.Duration) error {
	pid, done := p.pid(), p.exited()
	if pid == 0 {
		return nil
	}
	select {
	case <-done:
		return nil
	default:
	}
	if err := syscall.Kill(-pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop %s: %w", p.name, err)
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
		// The leader is gone; make sure nothing of its group lingers.
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		return nil
	case <-t.C:
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	<-done
	return fmt.Errorf("stop %s: no exit %s after SIGTERM, killed", p.name, grace)
}

// kill sends SIGKILL to the process group and waits for the exit.
func (p *proc) kill() {
	pid, done := p.pid(), p.exited()
	if pid == 0 {
		return
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	<-done
}

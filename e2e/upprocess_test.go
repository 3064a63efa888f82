package e2e

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// upProcess is `ffbatch up` running as its own process, as `make dev`
// runs it.
type upProcess struct {
	cmd    *exec.Cmd
	stderr *strings.Builder
	done   chan error // receives Wait's result
	banner string     // stdout up to "Press Ctrl-C to stop."
}

// startUp runs `ffbatch -state state up -free-ports args...` and waits for
// its banner. The process is killed when the test ends.
func startUp(t *testing.T, state string, args ...string) *upProcess {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "ffbatch"), append([]string{"-state", state, "up", "-free-ports"}, args...)...)
	cmd.Dir = repoDir
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	u := &upProcess{cmd: cmd, stderr: &strings.Builder{}, done: make(chan error, 1)}
	cmd.Stderr = u.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	ready := make(chan string, 1)
	go func() {
		var all strings.Builder
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			all.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "Press Ctrl-C to stop.") {
				ready <- all.String()
			}
		}
		close(ready)
		u.done <- cmd.Wait()
	}()
	select {
	case b, ok := <-ready:
		if !ok {
			t.Fatalf("ffbatch up ended before the stack was up: %s", u.stderr.String())
		}
		u.banner = b
	case <-time.After(2 * time.Minute):
		t.Fatalf("ffbatch up: no banner after 2 minutes: %s", u.stderr.String())
	}
	return u
}

// wait waits for up to exit and returns its Wait error.
func (u *upProcess) wait(t *testing.T, d time.Duration) error {
	t.Helper()
	select {
	case err := <-u.done:
		return err
	case <-time.After(d):
		t.Fatalf("ffbatch up did not exit within %s", d)
		return nil
	}
}

// procInfo identifies a process: pid, start time (clock ticks after boot)
// and command name.
type procInfo struct {
	pid   int
	start string
	name  string
}

func (p procInfo) String() string { return fmt.Sprintf("%s (pid %d)", p.name, p.pid) }

// readProc reads a live process's identity from /proc (ok false for a
// process that is gone or a zombie).
func readProc(pid int) (procInfo, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procInfo{}, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	open := strings.IndexByte(s, '(')
	if i < 0 || open < 0 {
		return procInfo{}, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 || f[0] == "Z" || f[0] == "X" {
		return procInfo{}, false
	}
	return procInfo{pid: pid, start: f[19], name: s[open+1 : i]}, true
}

// stillRunning reports whether the very process p (same pid and start time) runs.
func (p procInfo) stillRunning() bool {
	now, ok := readProc(p.pid)
	return ok && now.start == p.start
}

// tree returns the live processes below pid.
func tree(pid int) []procInfo {
	var out []procInfo
	for _, c := range descendants(pid) {
		if p, ok := readProc(c); ok {
			out = append(out, p)
		}
	}
	return out
}

// processesUsing walks all of /proc for live processes whose command line
// or working directory mentions dir: whatever a stack with its state in
// dir started, wherever in the process tree it ended up.
func processesUsing(dir string) []procInfo {
	entries, _ := os.ReadDir("/proc")
	var out []procInfo
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		p, ok := readProc(pid)
		if !ok {
			continue
		}
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		cwd, _ := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
		if strings.Contains(string(cmdline), dir) || strings.HasPrefix(cwd, dir) {
			out = append(out, p)
		}
	}
	return out
}

// waitNoneRunning waits up to d for every process in procs to be gone and
// returns those still running.
func waitNoneRunning(procs []procInfo, d time.Duration) []procInfo {
	deadline := time.Now().Add(d)
	for {
		var left []procInfo
		for _, p := range procs {
			if p.stillRunning() {
				left = append(left, p)
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// names lists the command names of procs.
func names(procs []procInfo) map[string]bool {
	m := map[string]bool{}
	for _, p := range procs {
		m[p.name] = true
	}
	return m
}

// ffbatchBinary runs the ffbatch binary with args in the repository and
// returns its exit code and output.
func ffbatchBinary(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "ffbatch"), args...)
	cmd.Dir = repoDir
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run ffbatch %q: %v", args, err)
	}
	return code, out.String(), errb.String()
}

// kill9 sends SIGKILL to up, as `kill -9` would, and reaps it.
func (u *upProcess) kill9(t *testing.T) {
	t.Helper()
	if err := syscall.Kill(u.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = u.wait(t, 10*time.Second)
}

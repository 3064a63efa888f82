package executor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// defaultPath is used when Spec.Env has no PATH, like a login shell on a Batch
// Ubuntu node would provide.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// killedExitCode is what Result.ExitCode holds for a process that the Runner killed
// with SIGKILL: the Linux shell convention 128+signal (137). The real service
// documents only that "an operating system-defined exit code" appears.
const killedExitCode = 128 + int(syscall.SIGKILL)

// waitDelay bounds how long Wait lingers after the process group was killed.
const waitDelay = 2 * time.Second

// errWallClock is the cancellation cause when maxWallClockTime expires.
var errWallClock = errors.New("maxWallClockTime exceeded")

type processSpec struct {
	argv           []string
	env            []string
	dir            string
	stdout, stderr string
	maxWall        time.Duration
}

type processResult struct {
	exitCode *int         // nil when the process never started
	failure  *FailureInfo // launch failure, or TaskEnded for a kill
}

// runProcess launches argv in its own process group and waits for it. When
// runCtx ends (the caller's ctx was cancelled, or the attempt's maxWallClockTime
// expired) the whole group is killed; ctx tells the two apart.
func runProcess(ctx, runCtx context.Context, ps processSpec) processResult {
	env := ps.env
	if env == nil {
		env = []string{} // never inherit the emulator's environment
	}
	prog, f := resolveProgram(ps.argv[0], env, ps.dir)
	if f != nil {
		return processResult{failure: f}
	}
	stdout, err := os.OpenFile(ps.stdout, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return processResult{failure: serverError(CodeCommandLaunchFailed, fmt.Sprintf("stdout.txt could not be opened: %v", err))}
	}
	defer stdout.Close()
	stderr, err := os.OpenFile(ps.stderr, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return processResult{failure: serverError(CodeCommandLaunchFailed, fmt.Sprintf("stderr.txt could not be opened: %v", err))}
	}
	defer stderr.Close()

	cmd := exec.CommandContext(runCtx, prog, ps.argv[1:]...)
	cmd.Args[0] = ps.argv[0]
	cmd.Env = env
	cmd.Dir = ps.dir
	cmd.Stdin = nil
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = taskSysProcAttr()
	cmd.Cancel = func() error {
		// Negative pid: the whole process group, so children die too.
		if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("kill process group %d: %w", cmd.Process.Pid, err)
		}
		return nil
	}
	cmd.WaitDelay = waitDelay

	if err := cmd.Start(); err != nil {
		if runCtx.Err() != nil {
			return processResult{failure: endedFailure(ctx, runCtx, ps.maxWall)}
		}
		return processResult{failure: launchFailure(ps.argv[0], err)}
	}
	_ = cmd.Wait() // the outcome is in ProcessState; a kill shows up as a signal
	code := exitCodeOf(cmd.ProcessState)

	if runCtx.Err() != nil {
		// Make sure stragglers in the group are gone even if the leader exited
		// on its own just before the deadline.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		return processResult{exitCode: &code, failure: endedFailure(ctx, runCtx, ps.maxWall)}
	}
	return processResult{exitCode: &code}
}

// endedFailure explains why runCtx ended: the caller's cancellation (TaskEnded,
// usererror) or maxWallClockTime (TaskEnded, servererror, as azure-docs describe it).
func endedFailure(ctx, runCtx context.Context, maxWall time.Duration) *FailureInfo {
	if ctx.Err() == nil && errors.Is(context.Cause(runCtx), errWallClock) {
		return serverError(CodeTaskEnded, msgTaskEndedByWallClock, nv("MaxWallClockTime", maxWall.String()))
	}
	return userError(CodeTaskEnded, msgTaskEndedByUser)
}

// exitCodeOf returns the exit status, or 128+signal for a process killed by a signal.
func exitCodeOf(st *os.ProcessState) int {
	if st == nil {
		return killedExitCode
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	if c := st.ExitCode(); c >= 0 {
		return c
	}
	return killedExitCode
}

// resolveProgram finds the executable like execvp would with the task's PATH:
// a name containing "/" is taken relative to the working directory; otherwise each
// PATH entry is tried (relative entries are relative to the working directory).
func resolveProgram(name string, env []string, dir string) (string, *FailureInfo) {
	notFound := func() *FailureInfo {
		return userError(CodeCommandProgramNotFound,
			"The specified command program is not found", nv("Program", name))
	}
	if strings.Contains(name, "/") {
		p := name
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		if _, err := os.Stat(p); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return "", notFound()
			}
			return "", launchFailure(name, err)
		}
		return p, nil
	}
	path, ok := lookupEnv(env, "PATH")
	if !ok {
		path = defaultPath
	}
	var firstErr error
	for _, d := range filepath.SplitList(path) {
		if d == "" {
			d = "."
		}
		if !filepath.IsAbs(d) {
			d = filepath.Join(dir, d)
		}
		p := filepath.Join(d, name)
		st, err := os.Stat(p)
		if err != nil || st.IsDir() {
			continue
		}
		if st.Mode().Perm()&0o111 == 0 {
			if firstErr == nil {
				firstErr = fmt.Errorf("%s is not executable", p)
			}
			continue
		}
		return p, nil
	}
	if firstErr != nil {
		return "", launchFailure(name, firstErr)
	}
	return "", notFound()
}

func launchFailure(name string, err error) *FailureInfo {
	return userError(CodeCommandLaunchFailed,
		fmt.Sprintf("The task command line could not be launched: %v", err), nv("Program", name))
}

// lookupEnv returns the last value of key in env; os/exec also keeps the last duplicate.
func lookupEnv(env []string, key string) (string, bool) {
	val, found := "", false
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			val, found = v, true
		}
	}
	return val, found
}

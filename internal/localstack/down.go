package localstack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// DownOptions configure Down. The zero value is usable.
type DownOptions struct {
	// OwnerTimeout is how long the process running the stack gets to stop
	// it after SIGTERM, before it is killed. Default 60s (it stops the
	// components one after another, each with its own grace period).
	OwnerTimeout time.Duration
	// Grace is how long leftover processes get after SIGTERM before
	// SIGKILL. Default 10s.
	Grace time.Duration
}

// DownReport says what Down did.
type DownReport struct {
	// Owner is the live process that held the state directory (ffbatch up
	// or run in another terminal) and was asked to stop with SIGTERM;
	// nil when none held it.
	Owner *ProcessRef
	// OwnerKilled is set when Owner did not stop in time and got SIGKILL.
	OwnerKilled bool
	// Stopped are processes of the stack that still ran without their
	// owner (or after it stopped) and that Down terminated; Killed are
	// those of them that needed SIGKILL.
	Stopped, Killed []ProcessRef
	// RemovedRecord is set when Down removed a stack.json.
	RemovedRecord bool
}

// Down stops the stack whose state is in dir, from another process: it
// asks the process holding the state directory to stop (SIGTERM, as Ctrl-C
// does), terminates whatever the stack's record names that still runs
// (with its child processes), and removes the record. It is what
// `ffbatch down` does, and it also cleans up after a killed ffbatch.
func Down(ctx context.Context, dir string, opts *DownOptions) (*DownReport, error) {
	o := DownOptions{OwnerTimeout: time.Minute, Grace: 10 * time.Second}
	if opts != nil && opts.OwnerTimeout > 0 {
		o.OwnerTimeout = opts.OwnerTimeout
	}
	if opts != nil && opts.Grace > 0 {
		o.Grace = opts.Grace
	}
	rep := &DownReport{}
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return rep, nil
	}
	// Read the record first: a killed owner cannot remove it, a stopping
	// one removes it before Down may look.
	rec, err := ReadRecord(dir)
	if err != nil && !errors.Is(err, ErrNoStack) {
		return rep, fmt.Errorf("down: %w", err)
	}
	lock, err := takeOver(ctx, dir, o.OwnerTimeout, rep)
	if err != nil {
		return rep, err
	}
	defer lock.Close()
	if rec != nil {
		rep.Stopped, rep.Killed = terminate(ctx, leftovers(rec), o.Grace)
	}
	if _, err := os.Stat(filepath.Join(dir, recordFile)); err == nil {
		rep.RemovedRecord = true
	}
	if err := RemoveEndpoints(dir); err != nil {
		return rep, fmt.Errorf("down: %w", err)
	}
	return rep, nil
}

// takeOver locks dir, first stopping the live process that holds it.
func takeOver(ctx context.Context, dir string, timeout time.Duration, rep *DownReport) (*os.File, error) {
	lock, err := tryLock(dir)
	if !errors.Is(err, errStateDirInUse) {
		return lock, err
	}
	owner, ok := lockOwner(dir)
	if !ok || !owner.Alive() {
		return nil, fmt.Errorf("down: state dir %s is locked by a process that did not say who it is (see `fuser %s`)", dir, filepath.Join(dir, lockFile))
	}
	rep.Owner = &owner
	owner.signal(syscall.SIGTERM, false)
	if lock, err := waitLock(ctx, dir, timeout); !errors.Is(err, errStateDirInUse) {
		return lock, err
	}
	rep.OwnerKilled = true
	owner.signal(syscall.SIGKILL, false)
	lock, err = waitLock(ctx, dir, 5*time.Second)
	if errors.Is(err, errStateDirInUse) {
		return nil, fmt.Errorf("down: %s still holds state dir %s after SIGKILL", owner, dir)
	}
	return lock, err
}

// waitLock polls tryLock until it succeeds, fails otherwise, or d passes.
func waitLock(ctx context.Context, dir string, d time.Duration) (*os.File, error) {
	deadline := time.Now().Add(d)
	for {
		lock, err := tryLock(dir)
		if !errors.Is(err, errStateDirInUse) || time.Now().After(deadline) {
			return lock, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("down: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// leftovers are the record's components that still run, then their
// descendants (the handler under funchost, tasks under batchemu). The
// owner is not among them: it has exited or released the state directory.
func leftovers(rec *Record) []ProcessRef {
	var out, below []ProcessRef
	for _, p := range rec.Processes {
		if p.Alive() {
			out = append(out, p)
			below = append(below, descendants(p.PID)...)
		}
	}
	return append(out, below...)
}

// terminate sends SIGTERM to each process (and the process group it
// leads), waits up to grace for all to exit, then sends SIGKILL to the
// rest. It returns the processes it signalled and those it killed.
func terminate(ctx context.Context, procs []ProcessRef, grace time.Duration) (stopped, killed []ProcessRef) {
	for _, p := range procs {
		p.signal(syscall.SIGTERM, true)
	}
	if waitAllExited(ctx, procs, grace) {
		return procs, nil
	}
	for _, p := range procs {
		if p.Alive() {
			killed = append(killed, p)
			p.signal(syscall.SIGKILL, true)
		}
	}
	waitAllExited(ctx, killed, 5*time.Second)
	return procs, killed
}

// waitAllExited waits up to d until none of procs is alive and reports whether
// they all exited.
func waitAllExited(ctx context.Context, procs []ProcessRef, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		alive := false
		for _, p := range procs {
			alive = alive || p.Alive()
		}
		if !alive {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
}

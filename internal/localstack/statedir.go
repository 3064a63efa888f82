package localstack

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// DefaultStateDir is the state directory's name at the project root.
const DefaultStateDir = ".local"

// lockFile in the state directory is flocked by the process that runs a
// stack there and holds that process's pid and start time.
const lockFile = ".lock"

// FindStateDir returns the state directory for a command run in wd: the
// nearest DefaultStateDir above wd (wd included) that a stack has used (it
// has a lock file), else DefaultStateDir at the root of the repository
// above wd, else DefaultStateDir in wd. So the commands work from any
// subfolder of the project, as git finds .git; the lock file check keeps
// an unrelated ~/.local from being taken for the project's.
func FindStateDir(wd string) string {
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, DefaultStateDir, lockFile)); err == nil {
			return filepath.Join(dir, DefaultStateDir)
		}
		if isRepoRoot(dir) {
			return filepath.Join(dir, DefaultStateDir)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return filepath.Join(wd, DefaultStateDir)
		}
		dir = parent
	}
}

// errStateDirInUse means another live process holds the state directory.
var errStateDirInUse = errors.New("state dir in use")

// lockDir takes an exclusive lock on <dir>/.lock and writes the caller's
// identity into it, so two stacks never share (or wipe) one state directory
// and down knows whom to stop. The lock is released when the file is closed
// (Stop) or the process ends, however it ends.
func lockDir(dir string) (*os.File, error) {
	f, err := tryLock(dir)
	if errors.Is(err, errStateDirInUse) {
		holder := "another process"
		if owner, ok := lockOwner(dir); ok {
			holder = owner.String()
		}
		return nil, fmt.Errorf("state dir %s is in use by a running stack, run by %s: stop it with `ffbatch -state %s down` (or Ctrl-C where it runs), or pass another -state",
			dir, holder, dir)
	}
	if err != nil {
		return nil, err
	}
	me, err := identify(os.Getpid())
	if err == nil {
		err = writeOwner(f, me)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock state dir: %w", err)
	}
	return f, nil
}

// tryLock flocks <dir>/.lock without waiting; errStateDirInUse when
// another open file holds it.
func tryLock(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("state dir: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock state dir: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errStateDirInUse
		}
		return nil, fmt.Errorf("lock state dir: %w", err)
	}
	return f, nil
}

func writeOwner(f *os.File, me ProcessRef) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt([]byte(fmt.Sprintf("%d %d\n", me.PID, me.Start)), 0)
	return err
}

// lockOwner reads the identity the lock holder wrote.
func lockOwner(dir string) (ProcessRef, bool) {
	b, err := os.ReadFile(filepath.Join(dir, lockFile))
	if err != nil {
		return ProcessRef{}, false
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return ProcessRef{}, false
	}
	pid, err1 := strconv.Atoi(f[0])
	start, err2 := strconv.ParseUint(f[1], 10, 64)
	if err1 != nil || err2 != nil || pid <= 0 {
		return ProcessRef{}, false
	}
	name := processName(pid)
	if name == "" {
		name = "ffbatch"
	}
	return ProcessRef{Name: name, PID: pid, Start: start}, true
}

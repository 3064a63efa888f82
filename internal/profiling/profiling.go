// Package profiling is the stack's opt-in CPU profile: with
// STACK_CPUPROFILE_DIR set, a process started with CPU writes its CPU
// profile to <dir>/<name>-<pid>.pprof from the call until stop (its
// orderly exit), for `go tool pprof`. Unset, it costs nothing.
package profiling

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
)

// EnvDir is the environment variable naming the profiles' directory (not
// FFBATCH_*: the local stack keeps those out of its processes' environment,
// as they are app settings).
const EnvDir = "STACK_CPUPROFILE_DIR"

// CPU starts the CPU profile of the process named name when EnvDir is set
// and returns the function that ends it and writes the file. A profile
// that cannot start is reported on stderr and the process runs without.
func CPU(name string) (stop func()) {
	dir := os.Getenv(EnvDir)
	if dir == "" {
		return func() {}
	}
	path := filepath.Join(dir, fmt.Sprintf("%s-%d.pprof", name, os.Getpid()))
	f, err := start(dir, path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: cpu profile: %v\n", name, err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "%s: cpu profile: %v\n", name, err)
		}
	}
}

func start(dir, path string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("start: %w", err)
	}
	return f, nil
}

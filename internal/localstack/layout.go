package localstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
)

// binaries the stack runs.
var binaries = []string{"sbemu", "batchemu", "funchost", "handler"}

// FindRepo returns the module root (a go.mod next to function-definitions/)
// above the working directory, or else above the running executable (so
// bin/ffbatch works from any directory).
func FindRepo() (string, error) {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		if exe, err = filepath.EvalSymlinks(exe); err == nil {
			starts = append(starts, filepath.Dir(exe))
		}
	}
	for _, dir := range starts {
		if root, ok := repoAbove(dir); ok {
			return root, nil
		}
	}
	return "", errors.New("find repository: run ffbatch inside the ffbatch repository, or run the ffbatch built into its bin/ (no go.mod with function-definitions/ above the working directory or the executable)")
}

func repoAbove(dir string) (string, bool) {
	for range 64 {
		if isRepoRoot(dir) {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", false
}

// isRepoRoot reports whether dir is the module root: go.mod next to
// function-definitions/.
func isRepoRoot(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	_, err = os.Stat(filepath.Join(dir, "function-definitions"))
	return err == nil
}

// findBinaries locates the four binaries: in o.BinDir, next to the running
// executable, or built into <StateDir>/bin.
func findBinaries(ctx context.Context, o Options, log *slog.Logger) (map[string]string, error) {
	if o.BinDir != "" {
		return binariesIn(o.BinDir)
	}
	if exe, err := os.Executable(); err == nil {
		if m, err := binariesIn(filepath.Dir(exe)); err == nil {
			return m, nil
		}
	}
	dir := filepath.Join(o.StateDir, "bin")
	log.Info("building the stack's binaries", "dir", dir)
	if err := Build(ctx, o.RepoDir, dir); err != nil {
		return nil, err
	}
	return binariesIn(dir)
}

func binariesIn(dir string) (map[string]string, error) {
	m := map[string]string{}
	for _, b := range binaries {
		p := filepath.Join(dir, b)
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("binary %s: %w (run `make build`)", b, err)
		}
		if st.Mode()&0o111 == 0 {
			return nil, fmt.Errorf("binary %s is not executable", p)
		}
		m[b] = p
	}
	return m, nil
}

// Build compiles sbemu, batchemu, funchost and handler from repo into dir.
func Build(ctx context.Context, repo, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	for _, b := range binaries {
		args = append(args, "./cmd/"+b)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = repo
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build the stack's binaries: %w: %s", err, out)
	}
	return nil
}

// layout returns the deployable app directory: Options.AppDir, or one
// assembled in <StateDir>/app from host.json, function-definitions/ and
// the handler binary (what `make dist` produces).
func (s *Stack) layout() (string, error) {
	if s.o.AppDir != "" {
		if _, err := os.Stat(filepath.Join(s.o.AppDir, "host.json")); err != nil {
			return "", fmt.Errorf("app layout %s: %w", s.o.AppDir, err)
		}
		return s.o.AppDir, nil
	}
	app := filepath.Join(s.Dir, "app")
	if err := os.RemoveAll(app); err != nil {
		return "", fmt.Errorf("assemble app layout: %w", err)
	}
	if err := copyFile(filepath.Join(s.o.RepoDir, "host.json"), filepath.Join(app, "host.json"), 0o644); err != nil {
		return "", err
	}
	defs := filepath.Join(s.o.RepoDir, "function-definitions")
	entries, err := os.ReadDir(defs)
	if err != nil {
		return "", fmt.Errorf("assemble app layout: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		src := filepath.Join(defs, e.Name(), "function.json")
		if _, err := os.Stat(src); err != nil {
			continue
		}
		if err := copyFile(src, filepath.Join(app, e.Name(), "function.json"), 0o644); err != nil {
			return "", err
		}
	}
	if err := copyFile(s.bins["handler"], filepath.Join(app, "handler"), 0o755); err != nil {
		return "", err
	}
	return app, nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	return nil
}

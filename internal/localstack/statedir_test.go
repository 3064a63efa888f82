package localstack

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFindStateDir(t *testing.T) {
	// root/                      a repository (go.mod, function-definitions/)
	// root/a/b/                  a subfolder
	// root/used/.local/.lock     a state dir a stack has used, inside the repo
	// root/used/deeper/
	// outside/x/                 no repository above
	// home/.local/               an unrelated .local (no lock file)
	// home/proj/
	base := t.TempDir()
	root := filepath.Join(base, "root")
	mkdirs(t, filepath.Join(root, "a", "b"), filepath.Join(root, "function-definitions"), filepath.Join(root, "used", ".local"),
		filepath.Join(root, "used", "deeper"), filepath.Join(base, "outside", "x"), filepath.Join(base, "home", ".local"),
		filepath.Join(base, "home", "proj"))
	touch(t, filepath.Join(root, "go.mod"))
	touch(t, filepath.Join(root, "used", ".local", lockFile))
	tests := []struct {
		name, wd, want string
	}{
		{"repository root", root, filepath.Join(root, ".local")},
		{"subfolder of the repository", filepath.Join(root, "a", "b"), filepath.Join(root, ".local")},
		{"nearest used state dir wins", filepath.Join(root, "used", "deeper"), filepath.Join(root, "used", ".local")},
		{"no repository: the working directory", filepath.Join(base, "outside", "x"), filepath.Join(base, "outside", "x", ".local")},
		{"an unrelated .local is not taken", filepath.Join(base, "home", "proj"), filepath.Join(base, "home", "proj", ".local")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FindStateDir(tt.wd); got != tt.want {
				t.Errorf("FindStateDir(%s) = %s, want %s", tt.wd, got, tt.want)
			}
		})
	}
}

func TestLockOwner(t *testing.T) {
	tests := []struct {
		name    string
		content string
		wantPID int
		wantOK  bool
	}{
		{"pid and start", "1234 5678\n", 1234, true},
		{"empty", "", 0, false},
		{"garbage", "hello world\n", 0, false},
		{"negative pid", "-1 5\n", 0, false},
		{"missing start", "1234\n", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, lockFile), []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			got, ok := lockOwner(dir)
			if ok != tt.wantOK || got.PID != tt.wantPID {
				t.Errorf("lockOwner(%q) = %+v, %v; want pid %d, %v", tt.content, got, ok, tt.wantPID, tt.wantOK)
			}
		})
	}
}

func TestLockDirNamesItsHolder(t *testing.T) {
	dir := t.TempDir()
	first, err := lockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	owner, ok := lockOwner(dir)
	me, _ := identify(os.Getpid())
	if !ok || owner.PID != os.Getpid() || owner.Start != me.Start {
		t.Errorf("lock file names %+v, %v; want this process %+v", owner, ok, me)
	}
}

func mkdirs(t *testing.T, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func touch(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

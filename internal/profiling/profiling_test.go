package profiling

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestCPU(t *testing.T) {
	t.Setenv(EnvDir, "")
	CPU("off")() // unset: nothing written, nothing to stop

	dir := filepath.Join(t.TempDir(), "profiles")
	t.Setenv(EnvDir, dir)
	stop := CPU("svc")
	stop()
	info, err := os.Stat(filepath.Join(dir, fmt.Sprintf("svc-%d.pprof", os.Getpid())))
	if err != nil || info.Size() == 0 {
		t.Fatalf("profile file: %v, %v; want a non-empty profile", info, err)
	}
}

package sbemu_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// repoRoot is the module root, two levels above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	abs, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// runClient runs a client script and requires it to print OK.
func runClient(t *testing.T, env []string, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK") {
		t.Fatalf("%s %s failed: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// TestNodeClient drives the emulator with @azure/service-bus (rhea), which
// `make test` installs under tools/node_modules.
func TestNodeClient(t *testing.T) {
	nodeModules := filepath.Join(repoRoot(t), "tools", "node_modules")
	if _, err := os.Stat(filepath.Join(nodeModules, "@azure", "service-bus")); err != nil {
		t.Fatalf("@azure/service-bus is not installed under %s (run make test's bootstrap): %v", nodeModules, err)
	}
	e := newEnv(t, nil)
	script, _ := filepath.Abs(filepath.Join("testdata", "clients", "servicebus.js"))
	runClient(t, []string{"NODE_PATH=" + nodeModules, "SB_CONN=" + connString(e.addr, "SAS_KEY_VALUE"), "SB_QUEUE=q1"},
		"node", script)
}

package batchemu

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestOfficialJSClient drives the emulator with the official @azure/batch
// 10.2.0 client (installed in tools/node_modules by `make tools`); the
// checks live in testdata/jsclient/conformance.js. Like the Azurite tests,
// it fails rather than skips when the tools are missing.
func TestOfficialJSClient(t *testing.T) {
	modules := findNodeModules(t)
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not installed: %v", err)
	}
	env := startServer(t, &Options{Concurrency: 4})
	script, err := filepath.Abs(filepath.Join("testdata", "jsclient", "conformance.js"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script, env.base, DefaultAccountName, DefaultAccountKey)
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	out, err := cmd.CombinedOutput()
	t.Logf("conformance.js output:\n%s", out)
	if err != nil {
		t.Fatalf("conformance.js: %v", err)
	}
	if !strings.Contains(string(out), "ALL OK") {
		t.Fatalf("conformance.js did not finish")
	}
}

// findNodeModules walks up from the package directory to tools/node_modules.
func findNodeModules(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		p := filepath.Join(dir, "tools", "node_modules")
		if _, err := os.Stat(filepath.Join(p, "@azure", "batch", "package.json")); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	t.Fatalf("@azure/batch not found in tools/node_modules: run `make tools`")
	return ""
}

package clientcompat

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu"
)

func startEmulator(t *testing.T) string {
	t.Helper()
	srv, err := batchemu.NewServer(&batchemu.Options{DataDir: t.TempDir(), Concurrency: 2})
	if err != nil {
		t.Fatalf("new emulator: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
	})
	return "http://" + ln.Addr().String()
}

// runClient runs an official client's script against a fresh emulator and
// checks that every step it announces passed.
func runClient(t *testing.T, wantSteps int, name string, args ...string) {
	t.Helper()
	url := startEmulator(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	args = append(args, url, batchemu.DefaultAccountName, batchemu.DefaultAccountKey)
	cmd := exec.CommandContext(ctx, name, args...)
	nodeModules, err := filepath.Abs(filepath.Join("..", "..", "..", "tools", "node_modules"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Env = append(os.Environ(), "NODE_PATH="+nodeModules)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args[:1], " "), err, out)
	}
	if got := strings.Count(string(out), "\nok ") + boolInt(strings.HasPrefix(string(out), "ok ")); got != wantSteps {
		t.Fatalf("%s: %d steps passed, want %d:\n%s", name, got, wantSteps, out)
	}
	t.Logf("%s", out)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestPythonClient(t *testing.T) {
	runClient(t, 15, "/usr/bin/python3", filepath.Join("testdata", "batch_py.py"))
}

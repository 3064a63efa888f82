package e2e

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/localstack"
)

// descendants returns pid's process tree below it (Linux /proc).
func descendants(pid int) []int {
	var out []int
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, t.Name()))
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if c, err := strconv.Atoi(f); err == nil {
				out = append(out, c)
				out = append(out, descendants(c)...)
			}
		}
	}
	return out
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z'
	}
	return true
}

// TestUpStopsCleanlyOnInterrupt runs the ffbatch binary's `up` as `make
// dev` does, waits for the stack, then sends SIGINT (Ctrl-C): ffbatch exits
// 0, every process it started (Azurite, sbemu, batchemu, funchost and the
// handler under it) is gone, and stack.json is removed.
func TestUpStopsCleanlyOnInterrupt(t *testing.T) {
	state := t.TempDir()
	up := startUp(t, state)
	summary, exports, ok := strings.Cut(up.banner, "For other tools")
	if !ok {
		t.Fatalf("banner has no environment block:\n%s", up.banner)
	}
	for _, want := range []string{"Blob storage (Azurite)", "Service Bus (sbemu)", "Batch (batchemu)", "Functions (funchost)"} {
		if !strings.Contains(summary, want) {
			t.Errorf("banner lacks %q:\n%s", want, up.banner)
		}
	}
	// The keys appear only as the export lines of `ffbatch env`, not in
	// the endpoint summary, and never on a command line (which every
	// local user can read).
	rec, err := localstack.ReadRecord(state)
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{connField(rec.StorageConnection, "AccountKey"), rec.BatchKey, connField(rec.ServiceBus, "SharedAccessKey"), rec.FunctionsMasterKey, rec.EventGridKey, rec.FunctionsKey, "AccountKey"}
	for _, k := range keys {
		if k == "" || strings.Contains(summary, k) {
			t.Errorf("endpoint summary shows key %q (or the stack has none):\n%s", k, summary)
		}
	}
	for _, want := range []string{"export FFBATCH_STORAGE_CONNECTION_STRING='", "export FFBATCH_SERVICEBUS_CONNECTION_STRING='", "export FFBATCH_BATCH_ACCOUNT_KEY="} {
		if !strings.Contains(exports, want) {
			t.Errorf("banner lacks %q:\n%s", want, up.banner)
		}
	}
	if _, err := os.Stat(filepath.Join(state, "stack.json")); err != nil {
		t.Errorf("stack.json while up: %v", err)
	}
	procs := descendants(up.cmd.Process.Pid)
	names := map[string]bool{}
	for _, p := range procs {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", p))
		names[strings.TrimSpace(string(b))] = true
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p))
		for _, k := range keys[:5] {
			if strings.Contains(string(cmdline), k) {
				t.Errorf("process %d (%s) has a key on its command line", p, b)
			}
		}
	}
	for _, want := range []string{"sbemu", "batchemu", "funchost", "handler"} {
		if !names[want] {
			t.Errorf("no %s process under ffbatch (have %v)", want, names)
		}
	}

	if err := up.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := up.wait(t, time.Minute); err != nil {
		t.Errorf("ffbatch up after SIGINT: %v\n%s", err, up.stderr.String())
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, p := range procs {
		for alive(p) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if alive(p) {
			b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p))
			t.Errorf("process %d (%s) outlived ffbatch up", p, strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	if _, err := os.Stat(filepath.Join(state, "stack.json")); !os.IsNotExist(err) {
		t.Errorf("stack.json after stop: %v", err)
	}
}

// connField is the value of name in a connection string ("" when absent).
func connField(conn, name string) string {
	for _, part := range strings.Split(conn, ";") {
		if v, ok := strings.CutPrefix(part, name+"="); ok {
			return v
		}
	}
	return ""
}

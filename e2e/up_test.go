package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
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
	cmd := exec.Command(filepath.Join(binDir, "ffbatch"), "-state", state, "up", "-free-ports")
	cmd.Dir = repoDir
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	ready := make(chan string, 1)
	go func() {
		var all strings.Builder
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			all.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "Press Ctrl-C to stop.") {
				ready <- all.String()
			}
		}
		close(ready)
	}()
	var banner string
	select {
	case b, ok := <-ready:
		if !ok {
			t.Fatalf("ffbatch up ended before the stack was up: %s", stderr.String())
		}
		banner = b
	case <-time.After(2 * time.Minute):
		t.Fatalf("ffbatch up: no banner after 2 minutes: %s", stderr.String())
	}
	for _, want := range []string{"Blob storage (Azurite)", "Service Bus (sbemu)", "Batch (batchemu)", "Functions (funchost)"} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	if strings.Contains(banner, "SAS_KEY_VALUE") || strings.Contains(banner, "AccountKey") {
		t.Errorf("banner shows a key:\n%s", banner)
	}
	if _, err := os.Stat(filepath.Join(state, "stack.json")); err != nil {
		t.Errorf("stack.json while up: %v", err)
	}
	procs := descendants(cmd.Process.Pid)
	names := map[string]bool{}
	for _, p := range procs {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", p))
		names[strings.TrimSpace(string(b))] = true
	}
	for _, want := range []string{"sbemu", "batchemu", "funchost", "handler"} {
		if !names[want] {
			t.Errorf("no %s process under ffbatch (have %v)", want, names)
		}
	}

	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ffbatch up after SIGINT: %v\n%s", err, stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("ffbatch up did not exit within a minute of SIGINT")
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

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDownAfterKill9: `ffbatch up` is SIGKILLed (kill -9): nothing it
// started keeps running (Azurite's node, the emulators, funchost and the
// handler under it), `ffbatch down` cleans up the stale stack.json, the
// next `up` on the same state directory works, and `ffbatch down` from
// another process stops that one.
func TestDownAfterKill9(t *testing.T) {
	state := t.TempDir()
	up := startUp(t, state)
	procs := tree(up.cmd.Process.Pid)
	have := names(procs)
	for _, want := range []string{"node", "sbemu", "batchemu", "funchost", "handler"} {
		if !have[want] {
			t.Errorf("no %s process under ffbatch up (have %v)", want, have)
		}
	}
	// The logs are there while it runs: Azurite's too, and the handler's
	// own lines, unwrapped.
	for _, c := range []struct{ service, want string }{
		{"azurite", "Azurite Blob service successfully listens"},
		{"handler", `level=INFO msg="handler ready"`},
	} {
		code, out, errs := ffbatchBinary(t, "-state", state, "logs", c.service)
		if code != 0 || !strings.Contains(out, c.want) {
			t.Errorf("logs %s: exit %d, want %q in:\n%s%s", c.service, code, c.want, out, errs)
		}
	}

	up.kill9(t)
	if left := waitNoneRunning(procs, 15*time.Second); len(left) > 0 {
		t.Errorf("still running 15s after kill -9 of ffbatch up: %v", left)
	}
	code, out, errs := ffbatchBinary(t, "-state", state, "down")
	if code != 0 {
		t.Fatalf("down after kill -9: exit %d\n%s%s", code, out, errs)
	}
	if !strings.Contains(out, "Removed the stale") {
		t.Errorf("down after kill -9 does not say it removed the stale stack.json:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(state, "stack.json")); !os.IsNotExist(err) {
		t.Errorf("stack.json after down: %v", err)
	}
	if left := processesUsing(state); len(left) > 0 {
		t.Errorf("processes still using %s after down: %v", state, left)
	}

	// The next up works on the same state directory, and down stops it
	// from outside, as from another terminal.
	again := startUp(t, state)
	procs = tree(again.cmd.Process.Pid)
	code, out, errs = ffbatchBinary(t, "-state", state, "down")
	if code != 0 || !strings.Contains(out, "was stopped") {
		t.Fatalf("down of a running stack: exit %d\n%s%s", code, out, errs)
	}
	if err := again.wait(t, time.Minute); err != nil {
		t.Errorf("ffbatch up stopped by down: %v\n%s", err, again.stderr.String())
	}
	if left := waitNoneRunning(procs, 5*time.Second); len(left) > 0 {
		t.Errorf("still running after down: %v", left)
	}
	if left := processesUsing(state); len(left) > 0 {
		t.Errorf("processes still using %s after down: %v", state, left)
	}
	code, out, _ = ffbatchBinary(t, "-state", state, "down")
	if code != 0 || !strings.Contains(out, "No stack was running") {
		t.Errorf("second down: exit %d, output %q", code, out)
	}
}

// TestUpStopsWhenAzuriteDies: Azurite killed (kill -9) under a running
// `ffbatch up` stops the whole stack with an error naming it, as for any
// other component, and leaves nothing running.
func TestUpStopsWhenAzuriteDies(t *testing.T) {
	up := startUp(t, t.TempDir())
	procs := tree(up.cmd.Process.Pid)
	var node *procInfo
	for i := range procs {
		if procs[i].name == "node" {
			node = &procs[i]
		}
	}
	if node == nil {
		t.Fatalf("no Azurite (node) process under ffbatch up: %v", names(procs))
	}
	if err := syscall.Kill(node.pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill Azurite: %v", err)
	}
	err := up.wait(t, time.Minute)
	if err == nil {
		t.Fatalf("ffbatch up exited 0 after Azurite died:\n%s", up.stderr.String())
	}
	if !strings.Contains(up.stderr.String(), "azurite exited") {
		t.Errorf("ffbatch up's error does not name Azurite:\n%s", up.stderr.String())
	}
	if left := waitNoneRunning(procs, 15*time.Second); len(left) > 0 {
		t.Errorf("still running after ffbatch up stopped: %v", left)
	}
}

package e2e

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestUpStopsWhenAComponentDies: any emulator or the Functions host
// killed (kill -9) under a running `ffbatch up` stops the whole stack with
// an error naming it and leaves nothing running, as Azurite does
// (TestUpStopsWhenAzuriteDies). The handler is the exception: the host
// restarts it (TestHandlerKilledDuringSubmitTasks).
func TestUpStopsWhenAComponentDies(t *testing.T) {
	for _, name := range []string{"sbemu", "batchemu", "funchost"} {
		t.Run(name, func(t *testing.T) {
			up := startUp(t, t.TempDir())
			procs := tree(up.cmd.Process.Pid)
			var victim *procInfo
			for i := range procs {
				if procs[i].name == name {
					victim = &procs[i]
				}
			}
			if victim == nil {
				t.Fatalf("no %s process under ffbatch up: %v", name, names(procs))
			}
			if err := syscall.Kill(victim.pid, syscall.SIGKILL); err != nil {
				t.Fatalf("kill %s: %v", name, err)
			}
			if err := up.wait(t, time.Minute); err == nil {
				t.Fatalf("ffbatch up exited 0 after %s died:\n%s", name, up.stderr.String())
			}
			if !strings.Contains(up.stderr.String(), name) {
				t.Errorf("ffbatch up's error does not name %s:\n%s", name, up.stderr.String())
			}
			if left := waitNoneRunning(procs, 15*time.Second); len(left) > 0 {
				t.Errorf("still running after ffbatch up stopped: %v", left)
			}
		})
	}
}

package localstack

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// component starts a shell script as a stack component would run: the
// leader of its own process group. It returns the shell and, once the shell
// has started it, its child.
func component(t *testing.T, name, script string) (ProcessRef, ProcessRef) {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait() }() // reap it, so a killed one is gone
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	ref, err := identify(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	ref.Name = name
	for range 200 {
		if kids := descendants(ref.PID); len(kids) > 0 {
			return ref, kids[0]
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s started no child", name)
	return ref, ProcessRef{}
}

// exitedProcess returns the identity of a process that has exited.
func exitedProcess(t *testing.T) ProcessRef {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", "sleep 0.2")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ref, err := identify(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	return ref
}

func TestDownStopsLeftovers(t *testing.T) {
	tests := []struct {
		name       string
		script     string
		wantKilled bool
	}{
		{"stops on SIGTERM", "sleep 30 & wait", false},
		{"needs SIGKILL", "trap '' TERM; sleep 30 & wait; sleep 30", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			comp, child := component(t, "sbemu", tt.script)
			rec := &Record{Endpoints: Endpoints{PoolID: "p"}, Owner: exitedProcess(t), Processes: []ProcessRef{comp}}
			if err := writeRecord(dir, rec); err != nil {
				t.Fatal(err)
			}
			rep, err := Down(context.Background(), dir, &DownOptions{Grace: 300 * time.Millisecond})
			if err != nil {
				t.Fatalf("Down: %v", err)
			}
			if rep.Owner != nil {
				t.Errorf("Down reports owner %v, want none (it had exited)", rep.Owner)
			}
			for _, p := range []ProcessRef{comp, child} {
				if !slices.ContainsFunc(rep.Stopped, func(s ProcessRef) bool { return s.PID == p.PID }) {
					t.Errorf("Stopped = %v, want it to list %v", rep.Stopped, p)
				}
				if waitGone(p.PID) != nil {
					t.Errorf("%v still runs after Down", p)
				}
			}
			if (len(rep.Killed) > 0) != tt.wantKilled {
				t.Errorf("Killed = %v, want killed %v", rep.Killed, tt.wantKilled)
			}
			if !rep.RemovedRecord {
				t.Error("RemovedRecord = false")
			}
			if _, err := os.Stat(filepath.Join(dir, recordFile)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("stack.json after Down: %v", err)
			}
		})
	}
}

func TestDownWithoutAStack(t *testing.T) {
	tests := []struct {
		name        string
		setup       func(t *testing.T, dir string)
		wantRemoved bool
	}{
		{"no state dir", func(t *testing.T, dir string) { _ = os.Remove(dir) }, false},
		{"empty state dir", func(t *testing.T, dir string) {}, false},
		{"stale record", func(t *testing.T, dir string) {
			gone := exitedProcess(t)
			if err := writeRecord(dir, &Record{Owner: gone, Processes: []ProcessRef{gone}}); err != nil {
				t.Fatal(err)
			}
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "state")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			tt.setup(t, dir)
			rep, err := Down(context.Background(), dir, nil)
			if err != nil {
				t.Fatalf("Down: %v", err)
			}
			if rep.Owner != nil || len(rep.Stopped) != 0 || rep.RemovedRecord != tt.wantRemoved {
				t.Errorf("Down = %+v, want nothing stopped and RemovedRecord %v", rep, tt.wantRemoved)
			}
		})
	}
}

func TestClearStaleRecord(t *testing.T) {
	live, _ := component(t, "batchemu", "sleep 30 & wait")
	gone := exitedProcess(t)
	tests := []struct {
		name        string
		rec         *Record // nil: no stack.json
		wantErr     string  // "" for none
		wantRemoved bool
	}{
		{"no record", nil, "", false},
		{"every process gone", &Record{Owner: gone, Processes: []ProcessRef{gone}}, "", true},
		{"endpoints only (SaveEndpoints)", &Record{Endpoints: Endpoints{PoolID: "p"}}, "", true},
		{"a process still runs", &Record{Owner: gone, Processes: []ProcessRef{gone, live}}, "batchemu (pid ", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.rec != nil {
				if err := writeRecord(dir, tt.rec); err != nil {
					t.Fatal(err)
				}
			}
			err := clearStaleRecord(context.Background(), dir, 100*time.Millisecond, slog.New(slog.DiscardHandler))
			if tt.wantErr == "" && err != nil {
				t.Fatalf("clearStaleRecord: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "down")) {
				t.Fatalf("clearStaleRecord error = %v, want one naming %q and `down`", err, tt.wantErr)
			}
			_, statErr := os.Stat(filepath.Join(dir, recordFile))
			if removed := tt.rec != nil && errors.Is(statErr, os.ErrNotExist); removed != tt.wantRemoved {
				t.Errorf("record removed = %v, want %v", removed, tt.wantRemoved)
			}
		})
	}
}

func TestLoadEndpointsRefusesAStaleRecord(t *testing.T) {
	me, err := identify(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		owner   ProcessRef
		wantErr bool
	}{
		{"owner runs", me, false},
		{"no owner recorded", ProcessRef{}, false},
		{"owner exited", exitedProcess(t), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := writeRecord(dir, &Record{Endpoints: Endpoints{PoolID: "p"}, Owner: tt.owner}); err != nil {
				t.Fatal(err)
			}
			ep, err := LoadEndpoints(dir)
			if tt.wantErr {
				if !errors.Is(err, ErrNoStack) || !strings.Contains(err.Error(), "stale") {
					t.Errorf("LoadEndpoints error = %v, want a stale ErrNoStack", err)
				}
				return
			}
			if err != nil || ep.PoolID != "p" {
				t.Errorf("LoadEndpoints = %+v, %v; want the endpoints", ep, err)
			}
		})
	}
}

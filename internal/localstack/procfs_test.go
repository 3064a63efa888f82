package localstack

import (
	"os"
	"os/exec"
	"testing"
)

func TestParseStat(t *testing.T) {
	// Fields 3.. of a real line; starttime is field 22.
	rest := " S 1 2 3 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10 18446744073709551615"
	tests := []struct {
		name      string
		line      string
		wantState byte
		wantStart uint64
		wantErr   bool
	}{
		{"plain name", "42 (sbemu)" + rest, 'S', 987654, false},
		{"name with spaces and parentheses", "42 (a (b) c)" + rest, 'S', 987654, false},
		{"zombie", "42 (x) Z" + rest[2:], 'Z', 987654, false},
		{"no name", "42 sbemu S 1", 0, 0, true},
		{"too short", "42 (x) S 1 2 3", 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat(tt.line)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseStat error = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && (got.state != tt.wantState || got.start != tt.wantStart) {
				t.Errorf("parseStat = %+v, want state %c start %d", got, tt.wantState, tt.wantStart)
			}
		})
	}
}

func TestProcessRefAlive(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ref, err := identify(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ref  ProcessRef
		want bool
	}{
		{"running", ref, true},
		{"any start time", ProcessRef{PID: ref.PID}, true},
		{"pid reused by another process", ProcessRef{PID: ref.PID, Start: ref.Start + 1}, false},
		{"no pid", ProcessRef{}, false},
		{"this process", ProcessRef{PID: os.Getpid()}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.ref.Alive(); got != tt.want {
				t.Errorf("%+v.Alive() = %v, want %v", tt.ref, got, tt.want)
			}
		})
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if ref.Alive() {
		t.Errorf("%+v alive after it was killed and reaped", ref)
	}
}

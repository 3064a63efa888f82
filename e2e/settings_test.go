package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUpRefusesBadSettings: `ffbatch up --set` with a name nothing reads
// fails before anything starts, suggesting the setting meant; a known
// setting with a value the handler refuses fails the start with the
// handler's own message on the terminal.
func TestUpRefusesBadSettings(t *testing.T) {
	tests := []struct {
		name     string
		set      string
		wantCode int
		want     []string
	}{
		{"unknown name", "FFBATCH_POOL_IDLE_TIMOUT=3s", 2, []string{"unknown app setting: FFBATCH_POOL_IDLE_TIMOUT (did you mean FFBATCH_POOL_IDLE_TIMEOUT?)"}},
		{"value the handler refuses", "FFBATCH_POOL_IDLE_TIMEOUT=banana", 1, []string{
			"start funchost", "its last output:", "handler: invalid configuration", `FFBATCH_POOL_IDLE_TIMEOUT: must be a Go duration`, `got "banana"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := t.TempDir()
			code, out, errs := ffbatchBinary(t, "-state", state, "up", "-free-ports", "-set", tt.set)
			if code != tt.wantCode {
				t.Fatalf("up --set %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", tt.set, code, tt.wantCode, out, errs)
			}
			for _, w := range tt.want {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errs)
				}
			}
			if left := processesUsing(state); len(left) > 0 {
				t.Errorf("processes left after the failed start: %v", left)
			}
			if _, err := os.Stat(filepath.Join(state, "stack.json")); !os.IsNotExist(err) {
				t.Errorf("stack.json after the failed start: %v", err)
			}
		})
	}
}

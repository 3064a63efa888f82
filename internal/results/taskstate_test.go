package results

import (
	"testing"

	"github.com/ffbatch/ffbatch/internal/batch"
)

func TestStateForTask(t *testing.T) {
	tests := []struct {
		name   string
		task   batch.TaskState
		want   State
		wantOK bool
	}{
		{name: "active is still submitted", task: batch.TaskStateActive, want: "", wantOK: false},
		{name: "preparing is running", task: batch.TaskStatePreparing, want: StateRunning, wantOK: true},
		{name: "running is running", task: batch.TaskStateRunning, want: StateRunning, wantOK: true},
		{name: "completed is running until swept", task: batch.TaskStateCompleted, want: StateRunning, wantOK: true},
		{name: "empty state", task: "", want: "", wantOK: false},
		{name: "unknown state", task: batch.TaskState("exploded"), want: "", wantOK: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := StateForTask(tc.task)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("StateForTask(%q) = (%q, %v), want (%q, %v)", tc.task, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

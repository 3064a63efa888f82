package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/results"
)

func TestStateList(t *testing.T) {
	tests := []struct {
		name    string
		values  []string
		want    string
		wantErr string
	}{
		{"one", []string{"failed"}, "failed", ""},
		{"comma-separated, spaces and case ignored", []string{"failed, Rejected"}, "failed,rejected", ""},
		{"repeated and deduplicated", []string{"failed", "running,failed"}, "failed,running", ""},
		{"CLI states", []string{"uploaded,unknown,ignored"}, "uploaded,unknown,ignored", ""},
		{"unknown state", []string{"failed,done"}, "", `unknown state "done" (states: succeeded,failed,`},
		{"empty", []string{""}, "", `unknown state ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l stateList
			var err error
			for _, v := range tt.values {
				if err = l.Set(v); err != nil {
					break
				}
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Set(%q) error = %v, want %q", tt.values, err, tt.wantErr)
				}
				return
			}
			if err != nil || l.String() != tt.want {
				t.Errorf("Set(%q) = %q, %v; want %q", tt.values, l.String(), err, tt.want)
			}
		})
	}
}

func TestSelection(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	files := []fileView{
		{Blob: "new-failed.mp4", State: results.StateFailed, Since: now.Add(-time.Minute)},
		{Blob: "new-running.mp4", State: results.StateRunning, Since: now.Add(-2 * time.Minute)},
		{Blob: "old-failed.mp4", State: results.StateFailed, Since: now.Add(-3 * time.Hour)},
		{Blob: "no-time.mp4", State: results.StateSucceeded},
	}
	tests := []struct {
		name string
		sel  selection
		want string // blob names of scope then show, comma-separated
	}{
		{"everything", selection{}, "new-failed.mp4,new-running.mp4,old-failed.mp4,no-time.mp4"},
		{"since", selection{since: 10 * time.Minute}, "new-failed.mp4,new-running.mp4"},
		{"since is inclusive", selection{since: 2 * time.Minute}, "new-failed.mp4,new-running.mp4"},
		{"state", selection{states: stateList{results.StateFailed}}, "new-failed.mp4,old-failed.mp4"},
		{"state and since", selection{states: stateList{results.StateFailed}, since: time.Hour}, "new-failed.mp4"},
		{"names, unknown kept through the filters", selection{names: []string{"old-failed.mp4", "typo.mp4"}, states: stateList{results.StateRunning}, since: time.Hour}, "typo.mp4"},
		{"names with since", selection{names: []string{"old-failed.mp4", "new-running.mp4"}, since: time.Hour}, "new-running.mp4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.sel.show(tt.sel.scope(files, "input", now))
			var names []string
			for _, f := range got {
				names = append(names, f.Blob)
			}
			if strings.Join(names, ",") != tt.want {
				t.Errorf("files = %q, want %s", names, tt.want)
			}
		})
	}
	if c := (selection{since: time.Hour}).cutoff(now); !c.Equal(now.Add(-time.Hour)) {
		t.Errorf("cutoff = %v, want an hour before now", c)
	}
	if c := (selection{}).cutoff(now); !c.IsZero() {
		t.Errorf("cutoff without --since = %v, want zero", c)
	}
}

package cli

import (
	"strings"
	"testing"

	"github.com/ffbatch/ffbatch/internal/lifecycle"
	"github.com/ffbatch/ffbatch/internal/request"
	"github.com/ffbatch/ffbatch/internal/results"
)

func TestRetryable(t *testing.T) {
	rec := func(st results.State) *lifecycle.Record {
		return &lifecycle.Record{Container: "input", Blob: "a.mp4", Requests: []lifecycle.Entry{{Request: request.Request{ID: "r1"}, State: st}}}
	}
	tests := []struct {
		name    string
		f       fileView
		wantErr string // "" means retryable
	}{
		{"failed", fileView{Blob: "a.mp4", State: results.StateFailed, Record: rec(results.StateFailed)}, ""},
		{"rejected", fileView{Blob: "a.mp4", State: results.StateRejected, Record: rec(results.StateRejected)}, ""},
		{"succeeded", fileView{Blob: "a.mp4", State: results.StateSucceeded, Record: rec(results.StateSucceeded)}, ""},
		{"queued", fileView{Blob: "a.mp4", State: results.StateQueued, Record: rec(results.StateQueued)}, "a.mp4 is in flight (queued)"},
		{"running", fileView{Blob: "a.mp4", State: results.StateRunning, Record: rec(results.StateSubmitted)}, "a.mp4 is in flight (running)"},
		{"uploaded, no request yet", fileView{Blob: "a.mp4", State: stateUploaded}, "a.mp4 is in flight (uploaded)"},
		{"unknown", fileView{Blob: "typo.mp4", State: stateUnknown, Reason: "no blob"}, "typo.mp4: unknown: no blob"},
		{"not an mp4", fileView{Blob: "notes.txt", State: results.StateIgnored, Record: rec(results.StateIgnored)}, "notes.txt is not an .mp4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := retryable(tt.f)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("retryable = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("retryable = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

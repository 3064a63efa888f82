package cli

import (
	"strings"
	"testing"

	"github.com/ffbatch/ffbatch/internal/lifecycle"
	"github.com/ffbatch/ffbatch/internal/request"
	"github.com/ffbatch/ffbatch/internal/results"
)

func TestSelectNames(t *testing.T) {
	old := &results.Output{Container: "output", Blob: "a.mp3-v2-vbr.mp3"}
	rec := &lifecycle.Record{Container: "input", Blob: "a.mp4", Requests: []lifecycle.Entry{
		{Request: request.Request{ID: "r1", Preset: "mp3-v2-vbr"}, State: results.StateSucceeded, MP3: old},
		{Request: request.Request{ID: "r2"}, State: results.StateSucceeded, MP3: &results.Output{Container: "output", Blob: "a.mp3"}},
	}}
	files := []fileView{
		{Blob: "a.mp4", State: results.StateSucceeded, OutputBlob: "a.mp3", OutputSize: 10, Record: rec},
		{Blob: "b.mp4", State: results.StateFailed, OutputSize: -1},
		{Blob: "c.mp4", State: stateUploaded, OutputSize: -1},
	}
	tests := []struct {
		name      string
		names     []string
		wantBlobs []string
		wantState []results.State
	}{
		{"inputs in the order asked", []string{"c.mp4", "a.mp4"}, []string{"c.mp4", "a.mp4"}, []results.State{stateUploaded, results.StateSucceeded}},
		{"the current output names its input", []string{"a.mp3"}, []string{"a.mp4"}, []results.State{results.StateSucceeded}},
		{"an earlier request's output names its input", []string{"a.mp3-v2-vbr.mp3"}, []string{"a.mp4"}, []results.State{results.StateSucceeded}},
		{"each file once", []string{"a.mp4", "a.mp3", "a.mp4"}, []string{"a.mp4"}, []results.State{results.StateSucceeded}},
		{"unknown", []string{"typo.mp4", "b.mp4"}, []string{"typo.mp4", "b.mp4"}, []results.State{stateUnknown, results.StateFailed}},
		{"case matters, as in blob names", []string{"A.mp4"}, []string{"A.mp4"}, []results.State{stateUnknown}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := selectNames(files, tt.names, "input")
			if len(got) != len(tt.wantBlobs) {
				t.Fatalf("selectNames(%q) = %d files, want %d: %+v", tt.names, len(got), len(tt.wantBlobs), got)
			}
			for i, f := range got {
				if f.Blob != tt.wantBlobs[i] || f.State != tt.wantState[i] {
					t.Errorf("file %d = %s %s, want %s %s", i, f.Blob, f.State, tt.wantBlobs[i], tt.wantState[i])
				}
				if f.State == stateUnknown && (!strings.Contains(f.Reason, `no blob "`+f.Blob+`" in the input container`) || !f.terminal()) {
					t.Errorf("unknown file %s: reason %q, terminal %v", f.Blob, f.Reason, f.terminal())
				}
			}
		})
	}
	if u := unknownNames(selectNames(files, []string{"x.mp4", "a.mp4", "y.mp4"}, "input")); strings.Join(u, ",") != "x.mp4,y.mp4" {
		t.Errorf("unknownNames = %q, want x.mp4,y.mp4", u)
	}
}

package cli

import (
	"slices"
	"strings"
	"testing"

	"github.com/ffbatch/ffbatch/internal/results"
)

func TestDetails(t *testing.T) {
	long := strings.Repeat("a very long message ", 20)
	tests := []struct {
		name string
		f    fileView
		want []string
	}{
		{"nothing to explain", fileView{State: results.StateSucceeded}, nil},
		{"the reason is not cut", fileView{Reason: long}, []string{long}},
		{"the last three stderr lines", fileView{Reason: "ffmpeg exit 1", Stderr: "one\ntwo\n\n  three  \nfour\n"},
			[]string{"ffmpeg exit 1", "stderr: two", "stderr: three", "stderr: four"}},
		{"short stderr", fileView{Reason: "r", Stderr: "only"}, []string{"r", "stderr: only"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := details(tt.f); !slices.Equal(got, tt.want) {
				t.Errorf("details = %q, want %q", got, tt.want)
			}
		})
	}
}

package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/lifecycle"
	"github.com/ffbatch/ffbatch/internal/request"
	"github.com/ffbatch/ffbatch/internal/results"
)

func TestRenderHistory(t *testing.T) {
	v := request.Version{Container: "input", Blob: "a.mp4", ETag: "0x1"}
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	mp3 := &results.Output{Container: "output", Blob: "a.mp3"}
	rec := &lifecycle.Record{Container: "input", Blob: "a.mp4", Requests: []lifecycle.Entry{
		{Request: request.Request{ID: "drop-1", Version: v, Preset: "mp3-192k-cbr", Source: request.SourceDrop}, State: results.StateSucceeded, MP3: mp3, QueuedAt: at},
		{Request: request.Request{ID: "order-7", Version: v, Preset: "mp3-192k-cbr", Source: request.SourceMessage, Correlation: "c-7"},
			State: results.StateSucceeded, MP3: mp3, Reused: &results.Reuse{Request: "drop-1"}, QueuedAt: at},
		{Request: request.Request{ID: "order-8", Version: v, Preset: "mp3-v2-vbr", Source: request.SourceMessage}, State: results.StateRejected,
			Rejection: &results.Rejection{Reason: "output_taken", Message: "output \"b.mp3\" belongs to input/b.mp4 " + strings.Repeat("and a long explanation ", 8)},
			QueuedAt:  at.Add(time.Hour)},
	}}
	files := []fileView{{Blob: "a.mp4", Record: rec}, {Blob: "never-seen.mp4"}}
	tests := []struct {
		name    string
		cutoff  time.Time
		want    []string
		notWant []string
	}{
		{"every request", time.Time{}, []string{
			"a.mp4: 3 request(s)",
			"drop-1", "drop", "a.mp3",
			"order-7", "a.mp3 (reused from drop-1)", "correlation c-7",
			"order-8", "rejected", "output_taken: output \"b.mp3\" belongs to input/b.mp4",
			"and a long explanation and a long explanation and a long explanation and a long explanation and a long explanation",
		}, []string{"never-seen", "…"}},
		{"requests since the cutoff", at.Add(30 * time.Minute), []string{"a.mp4: 1 request(s)", "order-8"}, []string{"drop-1", "order-7"}},
		{"none since the cutoff", at.Add(2 * time.Hour), nil, []string{"a.mp4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			renderHistory(&b, files, tt.cutoff)
			got := b.String()
			for _, want := range tt.want {
				if !strings.Contains(got, want) {
					t.Errorf("history lacks %q:\n%s", want, got)
				}
			}
			for _, not := range tt.notWant {
				if strings.Contains(got, not) {
					t.Errorf("history has %q:\n%s", not, got)
				}
			}
		})
	}
}

package media

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

func TestGenerateAndProbe(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		opts      *SampleOptions
		wantAudio string
		wantDur   time.Duration
		wantTags  map[string]string
	}{
		{name: "default clip has aac audio", opts: nil, wantAudio: "aac", wantDur: 3 * time.Second},
		{name: "no audio stream", opts: &SampleOptions{Duration: time.Second, NoAudio: true}, wantAudio: "", wantDur: time.Second},
		{name: "tags", opts: &SampleOptions{Duration: time.Second, Tags: map[string]string{"title": "A title; with $(chars)", "artist": "Ärtist"}},
			wantAudio: "aac", wantDur: time.Second, wantTags: map[string]string{"title": "A title; with $(chars)", "artist": "Ärtist", "major_brand": "isom"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "clip with space.mp4")
			if err := GenerateMP4(ctx, path, tt.opts); err != nil {
				t.Fatalf("GenerateMP4: %v", err)
			}
			info, err := Probe(ctx, path)
			if err != nil {
				t.Fatalf("Probe: %v", err)
			}
			if got := info.AudioCodec(); got != tt.wantAudio {
				t.Errorf("audio codec: got %q, want %q", got, tt.wantAudio)
			}
			if d := info.Duration - tt.wantDur; d < -200*time.Millisecond || d > 200*time.Millisecond {
				t.Errorf("duration: got %v, want %v ± 0.2s", info.Duration, tt.wantDur)
			}
			for k, want := range tt.wantTags {
				if got := info.Tags[k]; got != want {
					t.Errorf("tag %s = %q, want %q (tags %v)", k, got, want, info.Tags)
				}
			}
		})
	}
}

func TestRejectsOptionLikePaths(t *testing.T) {
	if err := GenerateMP4(context.Background(), "-evil.mp4", nil); err == nil {
		t.Fatalf("GenerateMP4 accepted a path starting with '-'")
	}
	if _, err := Probe(context.Background(), "-evil.mp4"); err == nil {
		t.Fatalf("Probe accepted a path starting with '-'")
	}
}

func TestProbeNotMedia(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.mp4")
	if _, err := Probe(context.Background(), path); err == nil {
		t.Fatalf("Probe of a missing file returned no error")
	}
}

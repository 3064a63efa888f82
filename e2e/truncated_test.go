package e2e

import (
	"strings"
	"testing"

	"github.com/ffbatch/ffbatch/internal/results"
)

// TestTruncatedMediaData: an MP4 cut inside its media data (the index is
// complete, the samples are not) must not count as a success. ffmpeg exits 0
// on such a file unless -xerror makes the decoding error fatal (internal/plan).
func TestTruncatedMediaData(t *testing.T) {
	p := startPipeline(t, nil)
	good := sample(t, "tone2s.mp4")
	etag := p.upload("half.mp4", good[:len(good)/2])
	st := p.waitDone(map[string]string{"half.mp4": etag})["half.mp4"]
	if st.State != results.StateFailed {
		info := p.probeOutput("half.mp3")
		t.Fatalf("an MP4 truncated to half ended %s (output %+v, duration %s of 2s), want failed", st.State, st.MP3, info.Duration)
	}
	f := st.Failure
	if f == nil || f.ExitCode == nil || *f.ExitCode == 0 {
		t.Fatalf("truncated MP4: failure %+v, want a recorded non-zero ffmpeg exit", f)
	}
	if !strings.Contains(f.Stderr, "partial file") && !strings.Contains(f.Stderr, "corrupt") {
		t.Errorf("truncated MP4: stderr excerpt %q does not explain the truncation", f.Stderr)
	}
}

package pipeline

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// latencyRuns is the number of uploads measured.
const latencyRuns = 20

// BenchmarkUploadToMP3Latency uploads one 10-second MP4 at a time and
// measures upload start -> MP3 present in the output container (polled
// every 10ms), 20 times, after one warm-up file (which creates the pool and
// job). The baseline is plain ffmpeg converting the same file with the same
// preset, 20 times. Reported: p50/p95 of both, in ms, and their ratios.
func BenchmarkUploadToMP3Latency(b *testing.B) {
	dir, src, data := tenSecondSample(b)
	ctx := context.Background()
	st, blobs := startStack(b, map[string]string{
		"FFBATCH_DEFAULT_PRESET": preset,
		"FFBATCH_SWEEP_SCHEDULE": "*/1 * * * * *",
	}, 0)
	in, out := st.Endpoints.InputContainer, st.Endpoints.OutputContainer

	upload := func(name string) (time.Duration, error) {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		start := time.Now()
		if _, err := blobs.UploadBuffer(ctx, in, name+".mp4", data, nil); err != nil {
			return 0, fmt.Errorf("upload: %w", err)
		}
		if err := waitBlob(ctx, blobs, out, name+".mp3", 10*time.Millisecond); err != nil {
			return 0, err
		}
		return time.Since(start), nil
	}
	measureLatencies(b, src, dir, "lat", upload)
}

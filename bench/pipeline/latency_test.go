package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/media"
)

// latencyRuns is the number of uploads measured.
const latencyRuns = 20

// BenchmarkUploadToMP3Latency uploads one 10-second MP4 at a time and
// measures upload start -> MP3 present in the output container (polled
// every 10ms), 20 times, after one warm-up file (which creates the pool and
// job). The baseline is plain ffmpeg converting the same file with the same
// preset, 20 times. Reported: p50/p95 of both, in ms, and their ratios.
func BenchmarkUploadToMP3Latency(b *testing.B) {
	dir := b.TempDir()
	src := filepath.Join(dir, "ten.mp4")
	ctx := context.Background()
	if err := media.GenerateMP4(ctx, src, &media.SampleOptions{Duration: 10 * time.Second}); err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		b.Fatal(err)
	}
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
	var pipe, base []time.Duration
	var first time.Duration
	b.ResetTimer()
	for n := range b.N {
		b.StopTimer()
		if first, err = upload(fmt.Sprintf("warmup-%d", n)); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		pipe, base = pipe[:0], base[:0]
		for i := range latencyRuns {
			d, err := upload(fmt.Sprintf("lat-%d-%d", n, i))
			if err != nil {
				b.Fatal(err)
			}
			pipe = append(pipe, d)
		}
		for i := range latencyRuns {
			start := time.Now()
			if err := ffmpeg(ctx, src, filepath.Join(dir, fmt.Sprintf("base-%d.mp3", i))); err != nil {
				b.Fatal(err)
			}
			base = append(base, time.Since(start))
		}
	}
	b.StopTimer()
	p50, p95 := percentile(pipe, 0.50), percentile(pipe, 0.95)
	b50, b95 := percentile(base, 0.50), percentile(base, 0.95)
	b.ReportMetric(ms(p50), "p50-ms")
	b.ReportMetric(ms(p95), "p95-ms")
	b.ReportMetric(ms(b50), "ffmpeg-p50-ms")
	b.ReportMetric(ms(b95), "ffmpeg-p95-ms")
	b.ReportMetric(float64(p50)/float64(b50), "p50-ratio")
	b.ReportMetric(float64(p95)/float64(b95), "p95-ratio")
	b.ReportMetric(ms(first), "first-file-ms")
	b.ReportMetric(0, "ns/op") // the wall time of the loop is not a result
}

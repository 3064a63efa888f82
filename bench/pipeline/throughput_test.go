package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/media"
)

// files is the batch size.
const files = 24

// BenchmarkTwentyFourThreeMinuteFiles uploads 24 MP4s with 3 minutes of
// audio each at once and measures upload start -> the last MP3 in the
// output container. The pipeline runs one node with one task slot per CPU
// and the Batch emulator's process limit set to the same number; the
// baseline runs plain ffmpeg (same preset) over the same local files with
// that many workers. Reported: both wall times in seconds and their ratio
// for the last iteration, and the ratio of the first (cold: no pool yet).
// Run with -benchtime 2x to see both a cold and a warm run.
func BenchmarkTwentyFourThreeMinuteFiles(b *testing.B) {
	par := runtime.NumCPU()
	dir := b.TempDir()
	ctx := context.Background()
	src := filepath.Join(dir, "src.mp4")
	if err := media.GenerateMP4(ctx, src, &media.SampleOptions{Duration: 3 * time.Minute, Width: 160, Height: 120}); err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		b.Fatal(err)
	}
	// 24 distinct local files with the same content.
	var paths []string
	for i := range files {
		p := filepath.Join(dir, fmt.Sprintf("in-%02d.mp4", i))
		if err := os.WriteFile(p, data, 0o644); err != nil {
			b.Fatal(err)
		}
		paths = append(paths, p)
	}
	st, blobs := startStack(b, map[string]string{
		"FFBATCH_DEFAULT_PRESET":      preset,
		"FFBATCH_SWEEP_SCHEDULE":      "*/1 * * * * *",
		"FFBATCH_DEDICATED_MAX_NODES": "1",
		"FFBATCH_SPOT_MAX_NODES":      "0",
		"FFBATCH_TASK_SLOTS_PER_NODE": strconv.Itoa(par),
	}, par)
	in, out := st.Endpoints.InputContainer, st.Endpoints.OutputContainer

	// The first iteration starts with no pool (cold: the pool is created
	// by SubmitTasks); later iterations find the pool still up (warm).
	var pipe, base, coldPipe, coldBase time.Duration
	b.ResetTimer()
	for n := range b.N {
		// Pipeline: upload all at once, then one poller lists the output
		// container (24 pollers would load Azurite, which shares the CPUs).
		start := time.Now()
		uctx, cancel := context.WithTimeout(ctx, 20*time.Minute)
		var wg sync.WaitGroup
		errs := make(chan error, files)
		want := map[string]bool{}
		for i, p := range paths {
			name := fmt.Sprintf("run-%d/in-%02d", n, i)
			want[name+".mp3"] = true
			wg.Add(1)
			go func() {
				defer wg.Done()
				f, err := os.Open(p)
				if err != nil {
					errs <- err
					return
				}
				defer f.Close()
				if _, err := blobs.UploadFile(uctx, in, name+".mp4", f, nil); err != nil {
					errs <- fmt.Errorf("upload %s: %w", name, err)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		if err := waitAll(uctx, blobs, out, fmt.Sprintf("run-%d/", n), want, 100*time.Millisecond); err != nil {
			b.Fatal(err)
		}
		cancel()
		pipe = time.Since(start)

		// Baseline: plain ffmpeg, par workers, same files.
		start = time.Now()
		work := make(chan int)
		ferrs := make(chan error, files)
		for range par {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range work {
					if err := ffmpeg(ctx, paths[i], filepath.Join(dir, fmt.Sprintf("out-%d-%02d.mp3", n, i))); err != nil {
						ferrs <- err
					}
				}
			}()
		}
		for i := range paths {
			work <- i
		}
		close(work)
		wg.Wait()
		close(ferrs)
		for err := range ferrs {
			b.Fatal(err)
		}
		base = time.Since(start)
		if n == 0 {
			coldPipe, coldBase = pipe, base
		}
	}
	b.StopTimer()
	b.ReportMetric(coldPipe.Seconds()/coldBase.Seconds(), "cold-ratio")
	b.ReportMetric(pipe.Seconds(), "pipeline-s")
	b.ReportMetric(base.Seconds(), "ffmpeg-s")
	b.ReportMetric(pipe.Seconds()/base.Seconds(), "ratio")
	b.ReportMetric(float64(par), "parallelism")
	b.ReportMetric(0, "ns/op")
}

package pipeline

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"

	"github.com/ffbatch/ffbatch/internal/localstack"
	"github.com/ffbatch/ffbatch/internal/media"
	"github.com/ffbatch/ffbatch/internal/plan"
)

// preset is the one both the pipeline (FFBATCH_DEFAULT_PRESET) and the
// baseline use.
const preset = "mp3-192k-cbr"

var (
	buildOnce sync.Once
	binDir    string
	repoDir   string
	buildErr  error
)

// binaries builds the stack's binaries once per test binary.
func binaries(b *testing.B) (bin, repo string) {
	b.Helper()
	buildOnce.Do(func() {
		if repoDir, buildErr = localstack.FindRepo(); buildErr != nil {
			return
		}
		dir, err := os.MkdirTemp("", "ffbatch-bench-bin-*")
		if err != nil {
			buildErr = err
			return
		}
		binDir = dir
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		buildErr = localstack.Build(ctx, repoDir, binDir)
	})
	if buildErr != nil {
		b.Fatalf("build the stack: %v", buildErr)
	}
	return binDir, repoDir
}

// startStack runs the local stack on free ports with settings on top of
// the local defaults.
func startStack(b *testing.B, settings map[string]string, concurrency int) (*localstack.Stack, *azblob.Client) {
	b.Helper()
	bin, repo := binaries(b)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := localstack.Start(ctx, &localstack.Options{
		StateDir: b.TempDir(), BinDir: bin, RepoDir: repo, FreePorts: true,
		Settings: settings, BatchConcurrency: concurrency,
	})
	if err != nil {
		b.Fatalf("start the local stack: %v", err)
	}
	b.Cleanup(func() { _ = st.Stop() })
	blobs, err := azblob.NewClientFromConnectionString(st.Endpoints.StorageConnection, nil)
	if err != nil {
		b.Fatal(err)
	}
	return st, blobs
}

// ffmpeg converts in to out exactly as a task does (plan.Args for the
// preset, with the local file names).
func ffmpeg(ctx context.Context, in, out string) error {
	p, ok := plan.LookupPreset(preset)
	if !ok {
		return fmt.Errorf("preset %s is gone", preset)
	}
	args := plan.Args(p)
	for i, a := range args {
		switch a {
		case plan.InputFile:
			args[i] = in
		case plan.OutputFile:
			args[i] = out
		}
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("ffmpeg %s: %w: %s", in, err, b)
	}
	return nil
}

// waitBlob polls until the blob exists.
func waitBlob(ctx context.Context, blobs *azblob.Client, container, name string, poll time.Duration) error {
	c := blobs.ServiceClient().NewContainerClient(container).NewBlobClient(name)
	for {
		_, err := c.GetProperties(ctx, nil)
		if err == nil {
			return nil
		}
		if !bloberror.HasCode(err, bloberror.BlobNotFound) {
			return fmt.Errorf("wait for %s/%s: %w", container, name, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s/%s: %w", container, name, ctx.Err())
		case <-time.After(poll):
		}
	}
}

// parallel calls fn(i) for every i in [0, n), workers at a time, and
// fails b with the errors.
func parallel(b *testing.B, n, workers int, fn func(i int) error) {
	b.Helper()
	work := make(chan int)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := fn(i); err != nil {
					errs <- err
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

// percentile returns the q-quantile (0..1) of ds by nearest rank.
func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := int(q*float64(len(s))+0.999999) - 1
	rank = max(0, min(rank, len(s)-1))
	return s[rank]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// measureLatencies runs one warm-up upload (which may create the pool and
// job) and latencyRuns measured ones with upload, then plain ffmpeg on src
// latencyRuns times as the same-run baseline, and reports p50/p95 of both
// in ms, their ratios and the warm-up's time.
func measureLatencies(b *testing.B, src, dir, prefix string, upload func(name string) (time.Duration, error)) {
	b.Helper()
	ctx := context.Background()
	var pipe, base []time.Duration
	var first time.Duration
	var err error
	for n := range b.N {
		if first, err = upload(fmt.Sprintf("warmup-%d", n)); err != nil {
			b.Fatal(err)
		}
		pipe, base = pipe[:0], base[:0]
		for i := range latencyRuns {
			d, err := upload(fmt.Sprintf("%s-%d-%d", prefix, n, i))
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

// tenSecondSample generates the latency benchmarks' 10-second MP4 in a
// temporary directory and returns the directory, its path and its bytes.
func tenSecondSample(b *testing.B) (dir, src string, data []byte) {
	b.Helper()
	dir = b.TempDir()
	src = filepath.Join(dir, "ten.mp4")
	if err := media.GenerateMP4(context.Background(), src, &media.SampleOptions{Duration: 10 * time.Second}); err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		b.Fatal(err)
	}
	return dir, src, data
}

package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/blobaccess"
	"github.com/ffbatch/ffbatch/internal/media"
	"github.com/ffbatch/ffbatch/internal/plan"
)

// ffmpegArgs is the conversion both sides run: the product's own command
// (internal/plan, fixed local names, no shell) with the default preset.
var ffmpegArgs = func() []string {
	p, ok := plan.LookupPreset("mp3-192k-cbr")
	if !ok {
		panic("preset mp3-192k-cbr missing")
	}
	return plan.Args(p)
}()

// BenchmarkTranscode24 converts 24 generated MP4s with 3 minutes of audio
// each, once with plain ffmpeg processes over the local files (the
// baseline) and once through the Batch emulator (resource files from
// Azurite, output upload to Azurite), both with the same parallelism
// (number of CPUs). It reports the ratio of wall times (target ≤ 1.10).
func BenchmarkTranscode24(b *testing.B) {
	const files = 24
	par := runtime.NumCPU()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	inputs := sampleFiles(ctx, b, files, 3*time.Minute)

	s := startStack(b, true, par)
	blobs, err := azblob.NewClientFromConnectionString(s.azurite.ConnectionString, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []string{"inputs", "outputs"} {
		if _, err := blobs.CreateContainer(ctx, c, nil); err != nil {
			b.Fatal(err)
		}
	}
	cred, err := azblob.NewSharedKeyCredential(s.azurite.AccountName, s.azurite.AccountKey)
	if err != nil {
		b.Fatal(err)
	}
	signer, err := blobaccess.NewAccountKeySigner(s.azurite.BlobEndpoint, cred, &blobaccess.Options{AllowHTTP: true})
	if err != nil {
		b.Fatal(err)
	}
	var tasks []batch.TaskAddParameter
	outURL, err := signer.WriteContainerURL(ctx, "outputs", 2*time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	for i, in := range inputs {
		name := filepath.Base(in)
		f, err := os.Open(in)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := blobs.UploadFile(ctx, "inputs", name, f, nil); err != nil {
			b.Fatal(err)
		}
		f.Close()
		inURL, err := signer.ReadBlobURL(ctx, "inputs", name, 2*time.Hour)
		if err != nil {
			b.Fatal(err)
		}
		tasks = append(tasks, batch.TaskAddParameter{
			ID:            fmt.Sprintf("t%02d", i),
			CommandLine:   strings.Join(ffmpegArgs, " "),
			ResourceFiles: []batch.ResourceFile{{HTTPURL: inURL, FilePath: plan.InputFile}},
			OutputFiles: []batch.OutputFile{{
				FilePattern: plan.OutputFile,
				Destination: batch.OutputFileDestination{Container: &batch.OutputFileBlobContainerDestination{
					ContainerURL: outURL, Path: name + ".mp3"}},
				UploadOptions: batch.OutputFileUploadOptions{UploadCondition: batch.OutputFileUploadConditionTaskSuccess},
			}},
		})
	}
	if err := s.client.CreatePool(ctx, ubuntuPool("p", int32(par))); err != nil {
		b.Fatal(err)
	}
	waitIdleNode(ctx, b, s.client, "p")

	var base, emu time.Duration
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		plainFFmpeg(ctx, b, inputs, par)
		base += time.Since(start)

		job := fmt.Sprintf("j%d", i)
		if err := s.client.CreateJob(ctx, batch.JobAddParameter{ID: job, PoolInfo: batch.PoolInfo{PoolID: "p"}}); err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		if _, err := s.client.AddTasks(ctx, job, tasks, nil); err != nil {
			b.Fatal(err)
		}
		waitAllCompleted(ctx, b, s.client, job, len(tasks))
		emu += time.Since(start)
	}
	b.ReportMetric(base.Seconds()/float64(b.N), "baseline-s")
	b.ReportMetric(emu.Seconds()/float64(b.N), "emulator-s")
	b.ReportMetric(emu.Seconds()/base.Seconds(), "emulator/baseline")
}

func plainFFmpeg(ctx context.Context, b *testing.B, inputs []string, par int) {
	b.Helper()
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	errs := make(chan error, len(inputs))
	for _, in := range inputs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			dir, err := os.MkdirTemp(b.TempDir(), "plain")
			if err != nil {
				errs <- err
				return
			}
			if err := os.Symlink(in, filepath.Join(dir, plan.InputFile)); err != nil {
				errs <- err
				return
			}
			cmd := exec.CommandContext(ctx, ffmpegArgs[0], ffmpegArgs[1:]...)
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				errs <- fmt.Errorf("ffmpeg %s: %w: %s", in, err, out)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

// waitAllCompleted polls the job's task counts (one small response, so the
// polling itself costs the shared CPUs little) until want tasks completed,
// then checks that every one succeeded.
func waitAllCompleted(ctx context.Context, b *testing.B, c *batch.Client, job string, want int) {
	b.Helper()
	for {
		counts, err := c.GetTaskCounts(ctx, job)
		if err != nil {
			b.Fatal(err)
		}
		if tc := counts.TaskCounts; int(tc.Completed) >= want {
			if int(tc.Succeeded) != want {
				b.Fatalf("job %s: %d of %d tasks failed", job, tc.Failed, want)
			}
			return
		}
		select {
		case <-ctx.Done():
			b.Fatal(ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// sampleFiles generates (once, cached under .local/bench-samples) n MP4s.
func sampleFiles(ctx context.Context, b *testing.B, n int, d time.Duration) []string {
	b.Helper()
	dir := filepath.Join("..", ".local", "bench-samples", d.String())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	var out []string
	for i := range n {
		p, err := filepath.Abs(filepath.Join(dir, fmt.Sprintf("sample-%02d.mp4", i)))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := os.Stat(p); err != nil {
			tmp := p + ".tmp.mp4"
			if err := media.GenerateMP4(ctx, tmp, &media.SampleOptions{Duration: d, Width: 160, Height: 120, FrequencyHz: 200 + 20*i}); err != nil {
				b.Fatal(err)
			}
			if err := os.Rename(tmp, p); err != nil {
				b.Fatal(err)
			}
		}
		out = append(out, p)
	}
	return out
}

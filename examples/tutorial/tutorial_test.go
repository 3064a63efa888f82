package main

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/media"
)

// TestTutorialEndToEnd runs the whole tutorial against Azurite, the Batch
// emulator and real ffmpeg: 5 generated MP4s must become 5 MP3s in the
// output container, each an mp3 stream as long as its source (±0.2 s).
func TestTutorialEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cfg := defaultConfig()
	cfg.StateDir = t.TempDir()
	cfg.ClipDuration = 2 * time.Second
	cfg.PollInterval = 100 * time.Millisecond
	cfg.Timeout = 2 * time.Minute
	var out bytes.Buffer
	report, err := Run(ctx, cfg, &out, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("Run: %v\noutput:\n%s", err, out.String())
	}
	if got, want := len(report.Files), cfg.Files; got != want {
		t.Fatalf("files in report: got %d, want %d", got, want)
	}
	for _, f := range report.Files {
		if f.Result != batch.TaskExecutionResultSuccess {
			t.Errorf("%s (%s): result %q, failure %q", f.TaskID, f.Input, f.Result, f.Failure)
			continue
		}
		src, err := media.Probe(ctx, filepath.Join(cfg.StateDir, "InputFiles", f.Input))
		if err != nil {
			t.Fatalf("probe input: %v", err)
		}
		got, err := media.Probe(ctx, f.LocalOutput)
		if err != nil {
			t.Fatalf("probe output of %s: %v", f.TaskID, err)
		}
		if codec := got.AudioCodec(); codec != "mp3" {
			t.Errorf("%s: output codec %q, want mp3", f.Output, codec)
		}
		if d := got.Duration - src.Duration; d < -200*time.Millisecond || d > 200*time.Millisecond {
			t.Errorf("%s: duration %v, source %v: differ by more than 0.2s", f.Output, got.Duration, src.Duration)
		}
	}
	for _, want := range []string{"Sample start:", "Uploading file", "Creating pool [LinuxFfmpegPool]", "Success! All tasks completed", "Elapsed time:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("console output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestTutorialRejectsHalfRemoteTargets(t *testing.T) {
	cfg := defaultConfig()
	cfg.StateDir = t.TempDir()
	cfg.BatchURL = "https://example.invalid"
	_, err := Run(context.Background(), cfg, &bytes.Buffer{}, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "storage-connection-string") {
		t.Fatalf("Run with only -batch-url: got %v, want an error naming -storage-connection-string", err)
	}
}

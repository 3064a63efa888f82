package executor

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/media"
)

// TestRunFFmpegMP4ToMP3 is the pipeline's task end to end on one node: the MP4
// arrives as a SAS resource file from Azurite, ffmpeg runs under /bin/bash -c as
// the real task command does, and the MP3 and the logs are uploaded back.
func TestRunFFmpegMP4ToMP3(t *testing.T) {
	bs := newBlobStore(t)
	ctx := context.Background()

	src := filepath.Join(t.TempDir(), "clip.mp4")
	if err := media.GenerateMP4(ctx, src, &media.SampleOptions{Duration: 2 * time.Second}); err != nil {
		t.Fatalf("generate input: %v", err)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	in := bs.newContainer(t, "input")
	putBlob(t, in, "uploads/clip.mp4", data)
	out := bs.newContainer(t, "output")

	r, logs := newTestRunner(t, nil)
	taskDir := filepath.Join(t.TempDir(), "workitems", "job-1", "job-1", "task-1")
	res := r.Run(ctx, Spec{
		CommandLine: `/bin/bash -c "ffmpeg -nostdin -y -hide_banner -loglevel error -i clip.mp4 -vn -codec:a libmp3lame -b:a 128k clip.mp3"`,
		Env:         baseEnv(taskDir),
		TaskDir:     taskDir,
		ResourceFiles: []ResourceFile{
			{HTTPURL: blobSAS(t, in, "uploads/clip.mp4"), FilePath: "clip.mp4"},
		},
		OutputFiles: []OutputFile{
			{FilePattern: "clip.mp3", ContainerURL: containerSAS(t, out, writeOnly), Path: "results/clip.mp3",
				UploadCondition: "tasksuccess", UploadHeaders: []Header{{Name: "Content-Type", Value: "audio/mpeg"}}},
			{FilePattern: "../std*.txt", ContainerURL: containerSAS(t, out, writeOnly), Path: "logs/task-1",
				UploadCondition: "taskcompletion"},
		},
		MaxWallClockTime: time.Minute,
	})
	if res.Failure != nil || exitCode(res) != "0" {
		t.Fatalf("exit %s failure %+v; stderr.txt: %s", exitCode(res), res.Failure, readFile(t, filepath.Join(taskDir, "stderr.txt")))
	}

	mp3, ok := getBlob(t, out, "results/clip.mp3")
	if !ok || len(mp3) == 0 {
		t.Fatalf("results/clip.mp3 missing or empty")
	}
	local := filepath.Join(t.TempDir(), "downloaded.mp3")
	if err := os.WriteFile(local, mp3, 0o644); err != nil {
		t.Fatal(err)
	}
	info, err := media.Probe(ctx, local)
	if err != nil {
		t.Fatalf("probe downloaded mp3: %v", err)
	}
	if info.AudioCodec() != "mp3" || !strings.Contains(info.FormatName, "mp3") {
		t.Errorf("downloaded file: format %q codec %q, want mp3", info.FormatName, info.AudioCodec())
	}
	if info.Duration < 1500*time.Millisecond || info.Duration > 2500*time.Millisecond {
		t.Errorf("duration = %v, want about 2s", info.Duration)
	}
	props, err := out.NewBlobClient("results/clip.mp3").GetProperties(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if props.ContentType == nil || *props.ContentType != "audio/mpeg" {
		t.Errorf("content type = %v, want audio/mpeg", props.ContentType)
	}
	for _, name := range []string{"logs/task-1/stdout.txt", "logs/task-1/stderr.txt"} {
		if _, ok := getBlob(t, out, name); !ok {
			t.Errorf("%s was not uploaded", name)
		}
	}
	assertNoSecrets(t, logs.String(), res, taskDir)
}

// TestRunFFmpegLavfiInput makes its input inside the task with ffmpeg's lavfi
// source, so no resource file is involved, and checks a failing ffmpeg run.
func TestRunFFmpegLavfiInput(t *testing.T) {
	tests := []struct {
		name     string
		cmd      string
		wantExit string
		wantCode string
		wantFile string
	}{
		{"sine to mp3", "ffmpeg -nostdin -y -loglevel error -f lavfi -i sine=frequency=440:duration=1 -codec:a libmp3lame tone.mp3", "0", "", "tone.mp3"},
		{"missing input fails", "ffmpeg -nostdin -y -loglevel error -i missing.mp4 out.mp3", "1", CodeFailureExitCode, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := newTestRunner(t, nil)
			taskDir := t.TempDir()
			res := r.Run(context.Background(), Spec{CommandLine: tc.cmd, Env: baseEnv(taskDir), TaskDir: taskDir})
			if exitCode(res) != tc.wantExit || failureCode(res) != tc.wantCode {
				t.Fatalf("exit %s failure %v, want %s %q", exitCode(res), res.Failure, tc.wantExit, tc.wantCode)
			}
			if tc.wantFile != "" {
				info, err := media.Probe(context.Background(), filepath.Join(taskDir, "wd", tc.wantFile))
				if err != nil || info.AudioCodec() != "mp3" {
					t.Errorf("probe %s: %+v %v, want an mp3", tc.wantFile, info, err)
				}
			}
		})
	}
}

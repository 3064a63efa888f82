package plan

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/media"
)

// TestArgsWithFFmpeg runs every preset's command line with the real ffmpeg,
// as a Batch node does (no shell, in the task's working directory), on an
// MP4 with tags: the MP3 keeps title, artist and album but not the MP4
// container's brand tags, and stderr holds the input duration and the
// final summary. Like the other media tests it fails, rather than skips,
// without ffmpeg (`make bootstrap` installs it).
func TestArgsWithFFmpeg(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tags := map[string]string{"title": "Episode 1; $(not a command)", "artist": "Ärtist", "album": "Album", "comment": "kept"}
	src := filepath.Join(t.TempDir(), "tagged.mp4")
	if err := media.GenerateMP4(ctx, src, &media.SampleOptions{Duration: time.Second, Width: 64, Height: 48, Tags: tags}); err != nil {
		t.Fatal(err)
	}
	for _, name := range PresetNames() {
		t.Run(name, func(t *testing.T) {
			p, _ := LookupPreset(name)
			wd := t.TempDir()
			if err := os.Link(src, filepath.Join(wd, InputFile)); err != nil {
				t.Fatal(err)
			}
			args := Args(p)
			log, err := runArgs(ctx, wd, args)
			if err != nil {
				t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, log)
			}
			info, err := media.Probe(ctx, filepath.Join(wd, OutputFile))
			if err != nil {
				t.Fatal(err)
			}
			for k, want := range tags {
				if got := info.Tags[k]; got != want {
					t.Errorf("MP3 tag %s = %q, want %q (tags %v)", k, got, want, info.Tags)
				}
			}
			for _, k := range []string{"major_brand", "minor_version", "compatible_brands"} {
				if v, ok := info.Tags[k]; ok {
					t.Errorf("MP3 carries the MP4 container tag %s=%q", k, v)
				}
			}
			for _, want := range []string{"Duration: 00:00:01", "Stream mapping:", "size=", "time=00:00:0"} {
				if !strings.Contains(log, want) {
					t.Errorf("stderr lacks %q (the task log of a success):\n%s", want, log)
				}
			}
		})
	}
}

// TestArgsFailureEndsWithTheError: with the info log level the end of
// stderr, which results.StderrExcerpt keeps, still names the problem.
func TestArgsFailureEndsWithTheError(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	wd := t.TempDir()
	if err := os.WriteFile(filepath.Join(wd, InputFile), []byte("not a video\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, _ := LookupPreset(DefaultPresetName)
	log, err := runArgs(ctx, wd, Args(p))
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("ffmpeg on a text file: %v, want a non-zero exit", err)
	}
	lines := strings.Split(log, "\n")
	if last := lines[len(lines)-1]; !strings.Contains(last, "Invalid data found when processing input") {
		t.Errorf("last stderr line = %q, want the error\n%s", last, log)
	}
}

package plan

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/media"
	"github.com/ffbatch/ffbatch/internal/results"
)

// TestArgsReadOnlyTheTaskInput: inputs that make ffmpeg open other files
// (an HLS playlist, a concat script, an ffconcat list, all named
// input.mp4 and naming another MP4 on the node by its absolute path) fail
// instead of transcoding that other file, while a real MP4 still works.
// Without the pinned demuxer ffmpeg probes the content, not the name, and
// follows the playlist.
func TestArgsReadOnlyTheTaskInput(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	other := filepath.Join(t.TempDir(), "someone-elses.mp4")
	if err := media.GenerateMP4(ctx, other, &media.SampleOptions{Duration: time.Second, Width: 64, Height: 48}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		input string
	}{
		{"HLS playlist", fmt.Sprintf("#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:1.0,\n%s\n#EXT-X-ENDLIST\n", other)},
		{"HLS playlist with a file URL", fmt.Sprintf("#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:1.0,\nfile://%s\n#EXT-X-ENDLIST\n", other)},
		{"ffconcat script", fmt.Sprintf("ffconcat version 1.0\nfile '%s'\n", other)},
		{"plain playlist", other + "\n"},
	}
	p, _ := LookupPreset(DefaultPresetName)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wd := t.TempDir()
			if err := os.WriteFile(filepath.Join(wd, InputFile), []byte(tc.input), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := runArgs(ctx, wd, Args(p))
			if err == nil {
				t.Fatalf("ffmpeg transcoded a %s that names another file:\n%s", tc.name, out)
			}
			if info, perr := os.Stat(filepath.Join(wd, OutputFile)); perr == nil && info.Size() > 0 {
				t.Errorf("an MP3 of %d bytes was written", info.Size())
			}
		})
	}
	t.Run("a real MP4", func(t *testing.T) {
		wd := t.TempDir()
		if err := os.Link(other, filepath.Join(wd, InputFile)); err != nil {
			t.Fatal(err)
		}
		if out, err := runArgs(ctx, wd, Args(p)); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
	})
}

// runArgs runs an argument vector in wd as a Batch node does (no shell)
// and returns its stderr.
func runArgs(ctx context.Context, wd string, args []string) (string, error) {
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = wd
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	return strings.TrimSpace(stderr.String()), err
}

// TestArgsTellWhichAudioStream: an MP4 with two audio tracks becomes an MP3
// of one of them, and ffmpeg's log (read at settle time) says which and
// that the other was dropped.
func TestArgsTellWhichAudioStream(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	wd := t.TempDir()
	gen := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=1",
		"-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-f", "lavfi", "-i", "sine=frequency=880:duration=1",
		"-map", "0", "-map", "1", "-map", "2", "-c:v", "libx264", "-c:a", "aac", "-shortest", InputFile)
	gen.Dir = wd
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("make a two-track MP4: %v\n%s", err, out)
	}
	p, _ := LookupPreset(DefaultPresetName)
	log, err := runArgs(ctx, wd, Args(p))
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	got, ok := results.AudioFromLog([]byte(log))
	if !ok || got.Streams != 2 || got.Dropped != 1 || got.Stream != "0:1" {
		t.Errorf("AudioFromLog = %+v, %v; want stream 0:1 of 2, 1 dropped\n%s", got, ok, log)
	}
}

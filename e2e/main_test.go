package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/localstack"
	"github.com/ffbatch/ffbatch/internal/media"
)

// Shared by every test, set up once in TestMain.
var (
	binDir   string // sbemu, batchemu, funchost, handler, ffbatch
	repoDir  string
	mediaDir string // generated inputs, see samples
)

// samples are generated once: name -> options (nil options: special).
var samples = map[string]*media.SampleOptions{
	"tone1s.mp4":  {Duration: time.Second, FrequencyHz: 330, Width: 160, Height: 120},
	"tone2s.mp4":  {Duration: 2 * time.Second, FrequencyHz: 440, Width: 160, Height: 120},
	"tone3s.mp4":  {Duration: 3 * time.Second, FrequencyHz: 880, Width: 160, Height: 120},
	"noaudio.mp4": {Duration: 2 * time.Second, NoAudio: true, Width: 160, Height: 120},
	"tagged.mp4": {Duration: 2 * time.Second, FrequencyHz: 660, Width: 160, Height: 120,
		Tags: map[string]string{"title": "Episode 1: Tags", "artist": "The Artist", "album": "The Album"}},
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	tmp, err := os.MkdirTemp("", "ffbatch-e2e-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	if repoDir, err = localstack.FindRepo(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	binDir = filepath.Join(tmp, "bin")
	if err := localstack.Build(ctx, repoDir, binDir); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	build := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(binDir, "ffbatch"), "./cmd/ffbatch")
	build.Dir = repoDir
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build ./cmd/ffbatch: %v: %s\n", err, out)
		return 1
	}
	mediaDir = filepath.Join(tmp, "media")
	if err := os.MkdirAll(mediaDir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	for name, o := range samples {
		if err := media.GenerateMP4(ctx, filepath.Join(mediaDir, name), o); err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
	}
	return m.Run()
}

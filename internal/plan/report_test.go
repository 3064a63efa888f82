package plan

import (
	"bytes"
	"context"
	"crypto/md5"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/media"
)

// TestCommandLineReportsWhatItRead runs the task's command line as a Linux
// node does (the single-quoted script handed to /bin/sh, in the task's
// working directory): stdout is a Report whose MD5 is that of input.mp4
// and whose size is that of output.mp3.
func TestCommandLineReportsWhatItRead(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	wd := t.TempDir()
	in := filepath.Join(wd, InputFile)
	if err := media.GenerateMP4(ctx, in, &media.SampleOptions{Duration: time.Second, Width: 64, Height: 48}); err != nil {
		t.Fatal(err)
	}
	p, _ := LookupPreset(DefaultPresetName)
	script, ok := strings.CutPrefix(CommandLine(p), "/bin/sh -c '")
	script, ok2 := strings.CutSuffix(script, "'")
	if !ok || !ok2 || strings.Contains(script, "'") {
		t.Fatalf("CommandLine = %q, want /bin/sh -c '<script without quotes>'", CommandLine(p))
	}
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", script)
	cmd.Dir = wd
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", script, err, stderr.String())
	}
	data, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	mp3, err := os.Stat(filepath.Join(wd, OutputFile))
	if err != nil {
		t.Fatal(err)
	}
	rep := ParseReport(stdout.Bytes())
	if sum := md5.Sum(data); !bytes.Equal(rep.InputMD5, sum[:]) {
		t.Errorf("reported input MD5 %x, want %x\nstdout:\n%s", rep.InputMD5, sum, stdout.String())
	}
	if rep.OutputSize != mp3.Size() {
		t.Errorf("reported output size %d, want %d (the MP3's length)\nstdout:\n%s", rep.OutputSize, mp3.Size(), stdout.String())
	}
}

func TestParseReport(t *testing.T) {
	const sum = "14e6bed4cfe706533c6182f19f28f214"
	tests := []struct {
		name    string
		stdout  string
		wantMD5 bool
		size    int64
	}{
		{"complete", sum + "  input.mp4\ntotal_size=774\nprogress=continue\ntotal_size=170047\nprogress=end\n", true, 170047},
		{"cut before the end", sum + "  input.mp4\ntotal_size=774\nprogress=continue\ntotal_size=900\n", true, -1},
		{"no md5", "total_size=5\nprogress=end\n", false, 5},
		{"md5 not on the first line", "x\n" + sum + "  input.mp4\n", false, -1},
		{"other file", sum + "  other.mp4\n", false, -1},
		{"short digest", "14e6  input.mp4\n", false, -1},
		{"empty", "", false, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := ParseReport([]byte(tc.stdout))
			if (rep.InputMD5 != nil) != tc.wantMD5 || rep.OutputSize != tc.size {
				t.Errorf("ParseReport = {%x, %d}, want md5 %v, size %d", rep.InputMD5, rep.OutputSize, tc.wantMD5, tc.size)
			}
		})
	}
}

// TestStagingNameIsNoOutput: no output name can be a staging name (every
// output ends in .mp3, a staging name in .mp3.part).
func TestStagingNameIsNoOutput(t *testing.T) {
	n := StagingName("t-1")
	if strings.HasSuffix(strings.ToLower(n), ".mp3") || !strings.HasPrefix(n, StagingPrefix) {
		t.Errorf("StagingName = %q: must start with %q and must not end in .mp3", n, StagingPrefix)
	}
	if OutputName(n, DefaultPresetName, DefaultPresetName) == n {
		t.Errorf("OutputName maps %q to itself", n)
	}
}

package e2e

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/cli"
	"github.com/ffbatch/ffbatch/internal/localstack"
	"github.com/ffbatch/ffbatch/internal/media"
)

// ffbatch runs the CLI in-process and returns its exit code and output.
func ffbatch(t *testing.T, state string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	code := cli.Main(ctx, append([]string{"-state", state}, args...), cli.Options{Stdout: &out, Stderr: &errb})
	return code, out.String(), errb.String()
}

// TestCLIRun is `make run`: start the stack, five generated samples through
// the pipeline, a summary, the stack stopped again.
func TestCLIRun(t *testing.T) {
	state := t.TempDir()
	mp3s := filepath.Join(t.TempDir(), "out")
	code, out, errs := ffbatch(t, state, "run", "-free-ports", "-bin", binDir, "-sample-duration", "1s", "-timeout", "2m",
		"-set", "FFBATCH_SWEEP_SCHEDULE=*/1 * * * * *", "-out", mp3s)
	if code != 0 {
		t.Fatalf("ffbatch run: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	for _, want := range []string{"The local stack is up:", "Summary:", "5 of 5 succeeded in", "sample-5.mp3", "5 MP3(s) copied to " + mp3s + "/samples/", "Stopping the local stack"} {
		if !strings.Contains(out, want) {
			t.Errorf("run output lacks %q:\n%s", want, out)
		}
	}
	copied := filesUnder(t, mp3s)
	if len(copied) != 5 || !strings.HasPrefix(copied[0], "samples/") || !strings.HasSuffix(copied[4], "/sample-5.mp3") {
		t.Errorf("MP3s copied = %q, want samples/<run>/sample-{1..5}.mp3", copied)
	}
	for _, f := range copied {
		info, err := media.Probe(context.Background(), filepath.Join(mp3s, f))
		if err != nil || info.AudioCodec() != "mp3" {
			t.Errorf("%s: %+v, %v; want an MP3", f, info, err)
		}
	}
	if _, err := os.Stat(filepath.Join(state, "stack.json")); !os.IsNotExist(err) {
		t.Errorf("stack.json left behind after run: %v", err)
	}
	// The stack is down: the state dir can be locked again, i.e. a new
	// stack could start there.
	if _, err := localstack.LoadEndpoints(state); err == nil {
		t.Error("endpoints still loadable after run")
	}
}

// TestCLIAgainstRunningStack: submit, watch, status and results against a
// running stack, as a developer uses them after `make dev`.
func TestCLIAgainstRunningStack(t *testing.T) {
	p := startPipeline(t, nil)
	state := p.stack.Dir
	if err := localstack.SaveEndpoints(state, p.ep); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	good := filepath.Join(work, "clip one.mp4")
	bad := filepath.Join(work, "notes.mp4")
	if err := os.WriteFile(good, sample(t, "tone2s.mp4"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("not a video"), 0o644); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name     string
		args     []string
		wantCode int
		want     []string
	}{
		{"submit with a name", []string{"submit", "-name", "cli/clip one.mp4", good}, 0, []string{"-> input/cli/clip one.mp4"}},
		{"submit outside the working directory", []string{"submit", bad}, 0, []string{"-> input/notes.mp4"}},
		{"watch until done", []string{"watch", "-interval", "100ms", "cli/clip one.mp4", "notes.mp4"}, 0, []string{"succeeded  cli/clip one.mp4", "failed     notes.mp4", "2/2 done"}},
		{"status", []string{"status"}, 0, []string{"last 60 min: ", "answered (", "cli/clip one.mp3", "notes.mp4", "ffmpeg"}},
		{"status of every file", []string{"status", "--all"}, 0, []string{"2/2 done (1 succeeded, 1 failed)", "cli/clip one.mp3", "ffmpeg"}},
		{"status with a limit", []string{"status", "--limit", "1"}, 0, []string{"Files, first 1 by name:", "cli/clip one.mp4", "Not shown: the files after the first 1 by name"}},
		{"results", []string{"results"}, 0, []string{"succeeded input/cli/clip one.mp4 -> output/cli/clip one.mp3", "failed    input/notes.mp4: ffmpeg", "2 result(s): 1 succeeded, 1 failed, 0 rejected"}},
		{"message for a missing blob", []string{"submit", "-message", "nothere.mp4"}, 1, nil},
	}
	for _, s := range steps {
		code, out, errs := ffbatch(t, state, s.args...)
		if code != s.wantCode {
			t.Fatalf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", s.name, code, s.wantCode, out, errs)
		}
		for _, w := range s.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %q:\n%s", s.name, w, out)
			}
		}
	}
}

package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/request"
	"github.com/ffbatch/ffbatch/internal/results"
)

func TestMainExitCodes(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no command", nil, 2, "Usage: ffbatch"},
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"help", []string{"-h"}, 0, "Commands:"},
		{"submit without files", []string{"submit"}, 2, "no files given"},
		{"submit --name with two files", []string{"submit", "--name", "x.mp4", "a", "b"}, 2, "--name needs exactly one file"},
		{"up with arguments", []string{"up", "extra"}, 2, "unexpected arguments"},
		{"status without a stack", []string{"status"}, 1, "ffbatch up"},
		{"watch with a tiny interval", []string{"watch", "--interval", "1ms"}, 2, "--interval must be at least 50ms"},
		{"run with a bad sample duration", []string{"run", "--sample-duration", "0s"}, 2, "--sample-duration"},
		{"bad --set", []string{"up", "--set", "novalue"}, 2, "want KEY=VALUE"},
		{"unknown --set name", []string{"up", "--set", "FFBATCH_POOL_IDLE_TIMOUT=3s"}, 2, "FFBATCH_POOL_IDLE_TIMOUT (did you mean FFBATCH_POOL_IDLE_TIMEOUT?)"},
		{"env without a stack", []string{"env"}, 1, "ffbatch up"},
		{"env with arguments", []string{"env", "x"}, 2, "unexpected arguments"},
		{"logs without logs", []string{"logs"}, 1, "no logs in"},
		{"down with arguments", []string{"down", "x"}, 2, "unexpected arguments"},
		{"--name after the files", []string{"submit", "a.mp4", "b.mp4", "--name", "x.mp4"}, 2, "--name needs exactly one file"},
		{"submit an MP3", []string{"submit", "song.mp3"}, 1, "song.mp3 is an MP3, an output name"},
		{"submit --message of an MP3", []string{"submit", "song.mp3", "--message"}, 1, "song.mp3 is an MP3"},
		{"get without names", []string{"get"}, 2, "name the files"},
		{"get names and --all", []string{"get", "a.mp4", "--all"}, 2, "name the files"},
		{"get into an empty -o", []string{"get", "--all", "-o", ""}, 2, "-o must name a folder"},
		{"retry without files", []string{"retry"}, 2, "no files given"},
		{"status with an unknown state", []string{"status", "--state", "failed,done"}, 2, `unknown state "done"`},
		{"watch with a negative --since", []string{"watch", "--since", "-1m"}, 2, "--since must not be negative"},
		{"presets with arguments", []string{"presets", "x"}, 2, "unexpected arguments"},
		{"presets", []string{"presets"}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			args := append([]string{"-state", t.TempDir()}, tt.args...)
			code := Main(context.Background(), args, Options{Stdout: &out, Stderr: &errb})
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tt.wantCode, errb.String())
			}
			if !strings.Contains(errb.String(), tt.wantErr) {
				t.Errorf("stderr = %q, want it to contain %q", errb.String(), tt.wantErr)
			}
		})
	}
}

func TestBlobName(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string
	}{
		{"plain", "a.mp4", "a.mp4"},
		{"nested keeps the relative path", filepath.Join("dir", "sub", "b c.mp4"), "dir/sub/b c.mp4"},
		{"absolute inside", filepath.Join(wd, "x", "y.mp4"), "x/y.mp4"},
		{"outside keeps the base name", filepath.Join("..", "..", "z.mp4"), "z.mp4"},
		{"dot segments cleaned", filepath.Join("x", "..", "w.mp4"), "w.mp4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := BlobName(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("BlobName(%q) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}

func TestBar(t *testing.T) {
	tests := []struct {
		name        string
		done, total int
		wantHashes  int
	}{
		{"nothing", 0, 5, 0},
		{"half", 1, 2, barWidth / 2},
		{"all", 5, 5, barWidth},
		{"no files", 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := bar(tt.done, tt.total)
			if n := strings.Count(got, "#"); n != tt.wantHashes {
				t.Errorf("bar(%d, %d) = %q: %d cells filled, want %d", tt.done, tt.total, got, n, tt.wantHashes)
			}
			if len(got) != barWidth+2 {
				t.Errorf("bar(%d, %d) width = %d, want %d", tt.done, tt.total, len(got), barWidth+2)
			}
		})
	}
}

func sampleSnapshot() snapshot {
	return snapshot{
		Queue: 2, Nodes: 1, PoolState: "active", Tasks: &batch.TaskCounts{Running: 1, Active: 0, Completed: 3},
		Files: []fileView{
			{Blob: "a.mp4", State: results.StateSucceeded, InputSize: 2048, OutputBlob: "a.mp3", OutputSize: 1024},
			{Blob: "b.mp4", State: results.StateFailed, InputSize: 10, OutputSize: -1, Reason: "ffmpeg FailureExitCode exit 1"},
			{Blob: "c.mp4", State: results.StateRunning, OutputSize: -1},
			{Blob: "d.mp4", State: results.StateSucceeded, OutputBlob: "d.mp3", OutputSize: -1}, // MP3 not there yet
		},
		Problems: []string{"list output: boom"},
	}
}

func TestRender(t *testing.T) {
	var b bytes.Buffer
	lines := render(&b, sampleSnapshot(), 1500*time.Millisecond, "pool1", false, 0)
	out := b.String()
	for _, want := range []string{
		"2/4 done", "1 failed", "1 running", "elapsed 1.5s",
		"queue: 2", "pool pool1: 1 node(s), active", "tasks: 1 running, 0 active, 3 completed",
		"! list output: boom",
		"a.mp3 (1.0 KiB)", "ffmpeg FailureExitCode exit 1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("render output lacks %q:\n%s", want, out)
		}
	}
	if lines != strings.Count(out, "\n") {
		t.Errorf("render returned %d lines, wrote %d", lines, strings.Count(out, "\n"))
	}
}

func TestLiveViewPrintsChangesOnly(t *testing.T) {
	var b bytes.Buffer
	v := &liveView{w: &b}
	s := sampleSnapshot()
	v.show(s, time.Second)
	first := b.String()
	if got := strings.Count(first, "\n"); got != 6 { // 4 files + b's reason + the done line
		t.Errorf("first show printed %d lines, want 6:\n%s", got, first)
	}
	if !strings.Contains(first, "failed     b.mp4\n         ffmpeg FailureExitCode exit 1\n") {
		t.Errorf("the failure's reason is not on the line after it:\n%s", first)
	}
	b.Reset()
	v.show(s, 2*time.Second)
	if b.Len() != 0 {
		t.Errorf("unchanged snapshot printed %q", b.String())
	}
	s.Files[2].State = results.StateSucceeded
	s.Files[2].OutputBlob, s.Files[2].OutputSize = "c.mp3", 5
	v.show(s, 3*time.Second)
	if out := b.String(); !strings.Contains(out, "succeeded  c.mp4  c.mp3") || !strings.Contains(out, "3/4 done") {
		t.Errorf("change printed %q", out)
	}
}

func TestLiveViewRedrawsOnTTY(t *testing.T) {
	var b bytes.Buffer
	v := &liveView{w: &b, tty: true}
	v.show(sampleSnapshot(), time.Second)
	n := v.lines
	v.show(sampleSnapshot(), time.Second)
	if !strings.Contains(b.String(), "\x1b["+strconv.Itoa(n)+"A\x1b[J") {
		t.Errorf("second draw does not move up %d lines: %q", n, b.String())
	}
}

func TestAllDone(t *testing.T) {
	files := sampleSnapshot().Files
	unknown := fileView{Blob: "typo.mp4", State: stateUnknown, OutputSize: -1}
	tests := []struct {
		name  string
		files []fileView
		want  []string
		done  bool
	}{
		{"no files yet", nil, nil, false},
		{"succeeded with mp3 and failed", files[:2], nil, true},
		{"running", files[:3], nil, false},
		{"succeeded without mp3 yet", files[3:], nil, false},
		{"fewer files than wanted", files[:1], []string{"a.mp4", "b.mp4"}, false},
		{"an unknown name is finished", []fileView{files[0], unknown}, []string{"a.mp4", "typo.mp4"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := allDone(snapshot{Files: tt.files}, tt.want); got != tt.done {
				t.Errorf("allDone = %v, want %v", got, tt.done)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	exit := int32(1)
	file := &request.Version{Container: "input", Blob: "x.mp4"}
	tests := []struct {
		name string
		ev   results.Event
		want []string
	}{
		{"succeeded", results.Event{Status: results.StatusSucceeded, File: file, Output: &results.Output{Container: "output", Blob: "x.mp3"},
			Timings: &results.Timings{RunMillis: 12, TotalMillis: 30}}, []string{"succeeded input/x.mp4 -> output/x.mp3", "run 12ms"}},
		{"failed", results.Event{Status: results.StatusFailed, File: file, Failure: &results.Failure{Category: results.CategoryFFmpeg,
			Code: "FailureExitCode", ExitCode: &exit, Stderr: "line1\nInvalid data found when processing input\n"}},
			[]string{"failed    input/x.mp4: ffmpeg FailureExitCode exit 1", "stderr: Invalid data found"}},
		{"reused", results.Event{Status: results.StatusSucceeded, File: file, Output: &results.Output{Container: "output", Blob: "x.mp3"},
			Reused: &results.Reuse{Request: "r1"}}, []string{"succeeded input/x.mp4 -> output/x.mp3 (reused: same work as request r1)"}},
		{"ignored", results.Event{Status: results.StatusIgnored, File: &request.Version{Container: "input", Blob: "notes.txt"},
			Rejection: &results.Rejection{Reason: "unsupported_extension", Message: "not an .mp4 blob"}}, []string{"ignored   input/notes.txt: unsupported_extension: not an .mp4 blob"}},
		{"rejected without file", results.Event{Status: results.StatusRejected, Rejection: &results.Rejection{Reason: "not_json", Message: "bad", MessageID: "m1"}},
			[]string{"(unnamed message): not_json: bad (message m1)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := describe(tt.ev)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("describe = %q, want it to contain %q", got, w)
				}
			}
		})
	}
}

func TestSettingsFlag(t *testing.T) {
	s := settingsFlag{}
	if err := s.Set("A=b=c"); err != nil {
		t.Fatal(err)
	}
	if err := s.Set("=x"); err == nil {
		t.Error("Set(\"=x\") accepted an empty key")
	}
	if s["A"] != "b=c" {
		t.Errorf("A = %q, want b=c", s["A"])
	}
}

func TestSummary(t *testing.T) {
	var b bytes.Buffer
	e := &env{stdout: &b}
	s := sampleSnapshot()
	failed := summary(e, s, map[string]int64{"a.mp4": 2048}, 3*time.Second)
	// b failed, c still running, d succeeded without its MP3: 3 not succeeded.
	if failed != 3 {
		t.Errorf("summary counted %d files not succeeded, want 3", failed)
	}
	out := b.String()
	for _, want := range []string{"FILE", "a.mp4", "succeeded", "2.0 KiB", "1.0 KiB", "a.mp3", "ffmpeg FailureExitCode exit 1", "1 of 4 succeeded in 3s"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}

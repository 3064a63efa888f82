package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/results"
)

// failingSnapshot has a failure with a reason longer than a table cell
// and a stderr excerpt, a file ignored at once, and an unknown name.
func failingSnapshot() snapshot {
	long := "ffmpeg FailureExitCode exit 1: The task process exited with an unexpected exit code " + strings.Repeat("and more ", 10) + "END"
	return snapshot{Queue: 0, Nodes: -1, Files: []fileView{
		{Blob: "bad.mp4", State: results.StateFailed, InputSize: 10, OutputSize: -1, Reason: long,
			Stderr: "early line\nmiddle\n[mov] moov atom not found\ninput.mp4: Invalid data found when processing input\n"},
		{Blob: "notes.txt", State: results.StateIgnored, InputSize: 5, OutputSize: -1, Reason: "unsupported_extension: not an .mp4 blob"},
		{Blob: "typo.mp4", State: stateUnknown, OutputSize: -1, Reason: `no blob "typo.mp4" in the input container`},
	}}
}

func TestRenderFull(t *testing.T) {
	tests := []struct {
		name    string
		full    bool
		want    []string
		notWant []string
	}{
		{"status: reasons in full with the end of stderr", true,
			[]string{"3/3 done (1 failed, 1 ignored, 1 unknown)", "and more END", "stderr: [mov] moov atom not found",
				"stderr: input.mp4: Invalid data found when processing input", "ignored    notes.txt", "unknown    typo.mp4", "-  no blob"},
			[]string{"early line", "…"}},
		{"live block: one line per file", false, []string{"…"}, []string{"END", "stderr:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			lines := render(&b, failingSnapshot(), 0, "pool", tt.full, 0)
			out := b.String()
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("render lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out, w) {
					t.Errorf("render has %q:\n%s", w, out)
				}
			}
			if lines != strings.Count(out, "\n") {
				t.Errorf("render returned %d lines, wrote %d", lines, strings.Count(out, "\n"))
			}
		})
	}
}

func TestLiveViewPrintsFullReasonsOnceOnTTY(t *testing.T) {
	var b bytes.Buffer
	v := &liveView{w: &b, tty: true}
	s := failingSnapshot()
	v.show(s, time.Second)
	first := b.String()
	for _, w := range []string{"failed bad.mp4\n  ffmpeg FailureExitCode", "and more END\n  stderr: middle\n  stderr: [mov] moov atom not found", "ignored notes.txt\n", "unknown typo.mp4\n"} {
		if !strings.Contains(first, w) {
			t.Errorf("first draw lacks %q:\n%s", w, first)
		}
	}
	b.Reset()
	v.show(s, 2*time.Second)
	if again := b.String(); strings.Contains(again, "END") || !strings.HasPrefix(again, "\x1b[") {
		t.Errorf("second draw repeats the reasons or does not redraw in place:\n%q", again)
	}
}

func TestWatchBanner(t *testing.T) {
	tests := []struct {
		name string
		sel  selection
		exit bool
		want string
	}{
		{"everything, until Ctrl-C", selection{}, false, "Watching every file in the input container; new uploads and requests show up as they arrive. Ctrl-C to stop."},
		{"everything, --exit", selection{}, true, "Watching every file in the input container until finished (Ctrl-C to stop)."},
		{"names", selection{names: []string{"a.mp4", "b.mp4"}}, true, "Watching a.mp4, b.mp4 until finished"},
		{"since", selection{since: 10 * time.Minute}, false, "Watching every file in the input container with requests from the last 10m0s;"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := watchBanner(tt.sel, "input", tt.exit); !strings.HasPrefix(got, tt.want) {
				t.Errorf("watchBanner = %q, want it to start with %q", got, tt.want)
			}
		})
	}
}

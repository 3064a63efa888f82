package e2e

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/lifecycle"
	"github.com/ffbatch/ffbatch/internal/localstack"
	"github.com/ffbatch/ffbatch/internal/results"
)

// TestCLIDeadEndsAndRetry: every dead end the CLI can reach gets an
// answer: an MP3 name is refused before anything is uploaded, a non-MP4
// is shown ignored at once, an unknown name is unknown (status, watch,
// retry), a file in flight is not retried; and a failed file retried gets
// a second, separate answer.
func TestCLIDeadEndsAndRetry(t *testing.T) {
	p := startPipeline(t, nil)
	state := p.stack.Dir
	if err := localstack.SaveEndpoints(state, p.ep); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	broken, notes, song, good := filepath.Join(work, "broken.mp4"), filepath.Join(work, "notes.txt"), filepath.Join(work, "song.mp3"), filepath.Join(work, "good.mp4")
	mustWriteFile(t, broken, []byte("not a video\n"))
	mustWriteFile(t, notes, []byte("some notes\n"))
	mustWriteFile(t, song, []byte("ID3"))
	mustWriteFile(t, good, sample(t, "tone2s.mp4"))

	steps := []struct {
		name       string
		args       []string
		wantCode   int
		wantOut    []string
		wantStderr string
	}{
		{"an MP3 is refused before uploading", []string{"submit", broken, song}, 1, nil, "song.mp3 is an MP3, an output name"},
		{"a non-MP4 is ignored at once", []string{"submit", notes}, 0, []string{"-> input/notes.txt", "ignored: not an .mp4 blob"}, ""},
		{"status shows it ignored", []string{"status", "notes.txt"}, 0, []string{"ignored    notes.txt", "unsupported_extension: not an .mp4 blob"}, ""},
		{"status of an unknown name", []string{"status", "nothere.mp4"}, 1, []string{"unknown    nothere.mp4", `no blob "nothere.mp4" in the input container`}, "unknown file(s): nothere.mp4"},
		{"watch of an unknown name ends", []string{"watch", "nothere.mp4", "--interval", "100ms"}, 1, []string{"unknown    nothere.mp4"}, "unknown file(s): nothere.mp4"},
		{"retry of an unknown name", []string{"retry", "nothere.mp4"}, 1, nil, "nothere.mp4: unknown"},
		{"retry of a non-MP4", []string{"retry", "notes.txt"}, 1, nil, "notes.txt is not an .mp4"},
		{"a broken MP4", []string{"submit", broken}, 0, []string{"-> input/broken.mp4"}, ""},
		{"a good MP4", []string{"submit", good}, 0, []string{"-> input/good.mp4"}, ""},
		{"retry of a file in flight", []string{"retry", "good.mp4"}, 1, nil, "good.mp4 is in flight"},
		{"watch both", []string{"watch", "--interval", "100ms", "broken.mp4", "good.mp4"}, 0, []string{"failed     broken.mp4", "stderr: input.mp4: Invalid data found", "2/2 done"}, ""},
	}
	for _, s := range steps {
		code, stdout, stderr := ffbatch(t, state, s.args...)
		if code != s.wantCode || !strings.Contains(stderr, s.wantStderr) {
			t.Fatalf("%s: exit %d, stderr %q; want exit %d and %q\nstdout:\n%s", s.name, code, stderr, s.wantCode, s.wantStderr, stdout)
		}
		for _, w := range s.wantOut {
			if !strings.Contains(stdout, w) {
				t.Errorf("%s: output lacks %q:\n%s", s.name, w, stdout)
			}
		}
	}
	if names := p.blobNames(p.ep.InputContainer); strings.Join(names, ",") != "broken.mp4,good.mp4,notes.txt" {
		t.Errorf("input blobs = %q: the refused submit uploaded something", names)
	}
	if st := p.waitDone(map[string]string{"notes.txt": ""})["notes.txt"]; st.State != results.StateIgnored {
		t.Errorf("notes.txt recorded %s, want ignored", st.State)
	}

	first := p.waitDone(map[string]string{"broken.mp4": ""})["broken.mp4"]
	out := cliOK(t, state, "retry", "broken.mp4")
	if !strings.Contains(out, "retry input/broken.mp4: new request retry-") {
		t.Fatalf("retry output:\n%s", out)
	}
	second := p.waitRequest("broken.mp4", func(e *lifecycle.Entry) bool { return e.ID != first.ID && e.State.Terminal() })
	if !strings.HasPrefix(second.ID, "retry-") || second.State != results.StateFailed || second.ETag != first.ETag {
		t.Errorf("retried request = %s %s (etag %s), want a failed retry-… request for etag %s", second.ID, second.State, second.ETag, first.ETag)
	}
	evs := p.waitEvents(map[string]int{"broken.mp4": 2})["broken.mp4"]
	if len(evs) != 2 || evs[0].Request.ID == evs[1].Request.ID || evs[0].ID == evs[1].ID {
		t.Fatalf("broken.mp4 events = %+v, want two answers to two requests", evs)
	}
	for _, ev := range evs {
		if ev.Status != results.StatusFailed || (ev.Request.ID != first.ID && ev.Request.ID != second.ID) {
			t.Errorf("event %s: status %s for request %s, want failed for %s or %s", ev.ID, ev.Status, ev.Request.ID, first.ID, second.ID)
		}
	}
	hist := cliOK(t, state, "status", "broken.mp4", "--state", "failed")
	if !strings.Contains(hist, "broken.mp4: 2 request(s)") || !strings.Contains(hist, "retry-") {
		t.Errorf("status broken.mp4 does not list both requests:\n%s", hist)
	}
}

// waitRequest waits until the current request of blob satisfies ok and
// returns it.
func (p *pipeline) waitRequest(blob string, ok func(*lifecycle.Entry) bool) *lifecycle.Entry {
	p.t.Helper()
	ctx := p.ctx()
	for {
		rec, err := p.status.Get(ctx, p.ep.InputContainer, blob)
		if err == nil && rec.Current() != nil && ok(rec.Current()) {
			return rec.Current()
		}
		if err != nil && !errors.Is(err, lifecycle.ErrNotFound) {
			p.t.Logf("status %q: %v", blob, err)
		}
		select {
		case <-ctx.Done():
			p.t.Fatalf("%s: the awaited request did not come within %s", blob, waitTimeout)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

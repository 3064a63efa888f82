package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/arrival"
	"github.com/ffbatch/ffbatch/internal/results"
)

// TestBadInputs: every bad input ends in a clear recorded outcome (a
// status record and a result event with a specific category or reason)
// and the good files in the same batch still become MP3s.
func TestBadInputs(t *testing.T) {
	p := startPipeline(t, nil)
	good := sample(t, "tone2s.mp4")
	truncated := good[:1000] // cut inside the moov box: ffmpeg cannot read it

	type want struct {
		state    results.State
		category results.Category // failed
		reason   string           // rejected
		output   string           // succeeded
	}
	files := []struct {
		name string
		data []byte
		want want
	}{
		{"good.mp4", good, want{state: results.StateSucceeded, output: "good.mp3"}},
		{"text.mp4", []byte("this is a text file, not a video\n"), want{state: results.StateFailed, category: results.CategoryFFmpeg}},
		{"empty.mp4", nil, want{state: results.StateRejected, reason: string(arrival.ReasonEmptyBlob)}},
		{"noaudio.mp4", sample(t, "noaudio.mp4"), want{state: results.StateFailed, category: results.CategoryFFmpeg}},
		{"truncated.mp4", truncated, want{state: results.StateFailed, category: results.CategoryFFmpeg}},
		{"with space.mp4", good, want{state: results.StateSucceeded, output: "with space.mp3"}},
		{`quote"double'single.mp4`, good, want{state: results.StateSucceeded, output: `quote"double'single.mp3`}},
		{"semi;colon; rm -rf x.mp4", good, want{state: results.StateSucceeded, output: "semi;colon; rm -rf x.mp3"}},
		{"$(touch pwned)`touch pwned2`.mp4", good, want{state: results.StateSucceeded, output: "$(touch pwned)`touch pwned2`.mp3"}},
		{"ünïcödé/音楽 ファイル.mp4", good, want{state: results.StateSucceeded, output: "ünïcödé/音楽 ファイル.mp3"}},
		{"dir/../dotdot.mp4", good, want{state: results.StateRejected, reason: string(arrival.ReasonDotSegment)}},
	}
	etags := map[string]string{}
	for _, f := range files {
		etags[f.name] = p.upload(f.name, f.data)
	}
	// Messages: one that is not JSON, one with an unknown field, one for a
	// blob that does not exist.
	p.sendRaw([]byte("{this is not json"), "bad-json-1")
	p.sendRaw([]byte(`{"container":"input","blob":"x.mp4","etag":"0x1","size":10,"presett":"mp3-128k-cbr"}`), "bad-field-1")
	p.sendArrival("ghost.mp4", "0x8DEADBEEF", 12345)
	etags["ghost.mp4"] = "0x8DEADBEEF"
	files = append(files, struct {
		name string
		data []byte
		want want
	}{"ghost.mp4", nil, want{state: results.StateFailed, category: results.CategoryInput}})

	done := p.waitDone(etags)
	outputs := p.outputs()
	for _, f := range files {
		st := done[f.name]
		if st.State != f.want.state {
			t.Errorf("%q: state %s (failure %+v, rejection %+v), want %s", f.name, st.State, st.Failure, st.Rejection, f.want.state)
			continue
		}
		switch st.State {
		case results.StateSucceeded:
			if st.MP3 == nil || st.MP3.Blob != f.want.output {
				t.Errorf("%q: output %+v, want %q", f.name, st.MP3, f.want.output)
			} else if _, ok := outputs[f.want.output]; !ok {
				t.Errorf("%q: %q missing from the output container", f.name, f.want.output)
			} else {
				p.checkMP3(f.want.output, 2*time.Second)
			}
		case results.StateFailed:
			if st.Failure == nil || st.Failure.Category != f.want.category {
				t.Errorf("%q: failure %+v, want category %s", f.name, st.Failure, f.want.category)
			} else if f.want.category == results.CategoryFFmpeg && (st.Failure.ExitCode == nil || *st.Failure.ExitCode == 0 || st.Failure.Stderr == "") {
				t.Errorf("%q: ffmpeg failure without an exit code or stderr excerpt: %+v", f.name, st.Failure)
			}
		case results.StateRejected:
			if st.Rejection == nil || st.Rejection.Reason != f.want.reason {
				t.Errorf("%q: rejection %+v, want reason %s", f.name, st.Rejection, f.want.reason)
			}
		}
	}
	if len(outputs) != 6 {
		t.Errorf("output container has %d MP3s, want the 6 good ones: %v", len(outputs), outputs)
	}

	// One result event per file (rejections by BlobCreated name the file
	// too), and one rejection per invalid message.
	wantEvents := map[string]int{"msg:bad-json-1": 1, "msg:bad-field-1": 1}
	for _, f := range files {
		wantEvents[f.name] = 1
	}
	by := p.waitEvents(wantEvents)
	for k := range wantEvents {
		if n := len(by[k]); n != 1 {
			t.Errorf("%q: %d result events, want 1: %s", k, n, summarize(by[k]))
		}
	}
	for id, reason := range map[string]arrival.Reason{"bad-json-1": arrival.ReasonNotJSON, "bad-field-1": arrival.ReasonUnknownField} {
		evs := by["msg:"+id]
		if len(evs) != 1 || evs[0].Status != results.StatusRejected || evs[0].Rejection.Reason != string(reason) {
			t.Errorf("message %s: events %s, want one rejection with reason %s", id, summarize(evs), reason)
		}
	}

	// No blob name ever reached a shell.
	filepath.WalkDir(p.stack.Dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), "pwned") {
			t.Errorf("a blob name was executed by a shell: %s exists", path)
		}
		return nil
	})
}

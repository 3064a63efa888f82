package e2e

import (
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/results"
)

// TestFullPath: MP4s uploaded to Azurite -> BlobCreated (the host's blob
// watcher) -> arrivals queue -> SubmitTasks -> Batch emulator runs ffmpeg ->
// MP3s in the output container -> SweepPools publishes one result event per
// file, removes the tasks and deletes the pool after the idle timeout.
func TestFullPath(t *testing.T) {
	p := startPipeline(t, nil)
	files := []struct {
		blob, sample, wantOutput string
		length                   time.Duration
	}{
		{"a.mp4", "tone2s.mp4", "a.mp3", 2 * time.Second},
		{"dir/sub/b.mp4", "tone3s.mp4", "dir/sub/b.mp3", 3 * time.Second},
		{"UPPER.MP4", "tone2s.mp4", "UPPER.mp3", 2 * time.Second},
		{"inner.dots.v2.mp4", "tone2s.mp4", "inner.dots.v2.mp3", 2 * time.Second},
	}
	etags := map[string]string{}
	for _, f := range files {
		etags[f.blob] = p.upload(f.blob, sample(t, f.sample))
	}
	done := p.waitDone(etags)
	outputs := p.outputs()
	for _, f := range files {
		st := done[f.blob]
		if st.State != results.StateSucceeded {
			t.Errorf("%s: state %s (failure %+v), want succeeded", f.blob, st.State, st.Failure)
			continue
		}
		if st.MP3 == nil || st.MP3.Blob != f.wantOutput {
			t.Errorf("%s: output %+v, want %s", f.blob, st.MP3, f.wantOutput)
			continue
		}
		if _, ok := outputs[f.wantOutput]; !ok {
			t.Errorf("%s: %s is not in the output container (have %v)", f.blob, f.wantOutput, outputs)
			continue
		}
		p.checkMP3(f.wantOutput, f.length)
	}
	if len(outputs) != len(files) {
		t.Errorf("output container has %d blobs, want %d: %v", len(outputs), len(files), outputs)
	}

	want := map[string]int{}
	for _, f := range files {
		want[f.blob] = 1
	}
	by := p.waitEvents(want)
	for _, f := range files {
		evs := by[f.blob]
		if len(evs) != 1 {
			t.Errorf("%s: %d result events, want exactly 1: %+v", f.blob, len(evs), evs)
			continue
		}
		ev := evs[0]
		if ev.Status != results.StatusSucceeded || ev.Output == nil || ev.Output.Blob != f.wantOutput || ev.File.ETag != etags[f.blob] {
			t.Errorf("%s: result event %+v, want succeeded with output %s for etag %s", f.blob, ev, f.wantOutput, etags[f.blob])
		}
		if ev.Schema != results.SchemaVersion {
			t.Errorf("%s: schema %q, want %q", f.blob, ev.Schema, results.SchemaVersion)
		}
	}

	p.waitPoolGone()
	if n := p.taskCount(); n != 0 {
		t.Errorf("%d tasks left after the sweep, want 0", n)
	}
}

// TestUpstreamPath: arrival messages sent straight to the queue by an
// upstream system (the blob watcher is switched off) give the same results.
func TestUpstreamPath(t *testing.T) {
	p := startPipeline(t, map[string]string{"AzureWebJobs.BlobCreated.Disabled": "true"})
	files := []struct {
		blob, sample, output string
		length               time.Duration
	}{
		{"up/one.mp4", "tone2s.mp4", "up/one.mp3", 2 * time.Second},
		{"up/two.mp4", "tone3s.mp4", "up/two.mp3", 3 * time.Second},
	}
	etags := map[string]string{}
	for _, f := range files {
		data := sample(t, f.sample)
		etags[f.blob] = p.upload(f.blob, data)
		p.sendArrival(f.blob, etags[f.blob], len(data))
	}
	done := p.waitDone(etags)
	for _, f := range files {
		if st := done[f.blob]; st.State != results.StateSucceeded || st.MP3 == nil || st.MP3.Blob != f.output {
			t.Errorf("%s: state %s output %+v failure %+v, want succeeded with %s", f.blob, st.State, st.MP3, st.Failure, f.output)
			continue
		}
		p.checkMP3(f.output, f.length)
	}
	by := p.waitEvents(map[string]int{"up/one.mp4": 1, "up/two.mp4": 1})
	for _, f := range files {
		if n := len(by[f.blob]); n != 1 {
			t.Errorf("%s: %d result events, want 1", f.blob, n)
		}
	}
	// The watcher really was off: nothing but our messages queued work.
	if n := len(p.outputs()); n != len(files) {
		t.Errorf("output container has %d blobs, want %d", n, len(files))
	}
}

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/lifecycle"
	"github.com/ffbatch/ffbatch/internal/media"
	"github.com/ffbatch/ffbatch/internal/plan"
	"github.com/ffbatch/ffbatch/internal/results"
)

// noSettling switches off both ways a completed task is settled, so a
// test can act between a task's completion and its settle, then settle by
// running SweepPools through the host's admin API (sweepEverySecond).
var noSettling = map[string]string{
	"AzureWebJobs.SweepPools.Disabled":   "true",
	"AzureWebJobs.TaskFinished.Disabled": "true",
}

// waitTaskCompleted waits until Batch reports task id completed.
func (p *pipeline) waitTaskCompleted(id string) {
	p.t.Helper()
	ctx := p.ctx()
	for {
		if tk, err := p.batch.GetTask(ctx, p.ep.JobID, id, nil); err == nil && tk.State == batch.TaskStateCompleted {
			return
		}
		select {
		case <-ctx.Done():
			p.t.Fatalf("task %s did not complete within %s", id, waitTimeout)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// requestFor waits until blob's current request names version etag and
// owns a task, and returns it.
func (p *pipeline) requestFor(blob, etag string) *lifecycle.Entry {
	p.t.Helper()
	return p.waitRequest(blob, func(e *lifecycle.Entry) bool { return e.ETag == etag && e.TaskID != "" })
}

// invokeTaskFinished runs TaskFinished (switched off) for the upload of
// task id's stderr.txt through the host's admin API, as the host does for
// the Event Grid event.
func (p *pipeline) invokeTaskFinished(id string) {
	p.t.Helper()
	events := p.blobCreatedEvents(p.ep.OutputContainer, "logs-"+id, plan.LogsPath("logs/", id)+"/stderr.txt", "0x1", 1)
	input, err := json.Marshal(map[string]string{"input": string(events)})
	if err != nil {
		p.t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(p.ctx(), http.MethodPost, p.ep.FunctionsURL+"/admin/functions/TaskFinished", bytes.NewReader(input))
	if err != nil {
		p.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-functions-key", p.ep.FunctionsMasterKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatalf("invoke TaskFinished: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		p.t.Fatalf("invoke TaskFinished: %s", resp.Status)
	}
}

// settleInBackground runs SweepPools every second until the test ends.
func (p *pipeline) settleInBackground() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	p.t.Cleanup(func() { cancel(); <-done })
	go func() { defer close(done); sweepEverySecond(ctx, p.ep) }()
}

// stagedLeft lists the staged MP3s still in the output container.
func (p *pipeline) stagedLeft() []string {
	var out []string
	for _, n := range p.blobNames(p.ep.OutputContainer) {
		if strings.HasPrefix(n, plan.StagingPrefix) {
			out = append(out, n)
		}
	}
	return out
}

// TestOverwriteDuringRun: a blob overwritten after the task of its first
// version read it, and before that task is settled, ends with the newest
// version's MP3, and the first version's request fails with
// input_changed instead of reporting success (with the new version's MP3,
// or worse replacing it with the old audio):
//   - without contentMD5 nothing shows which bytes the old task read;
//   - with it the old task is proven to have read its version, but its MP3
//     is settled after the newer version's and must not replace it.
func TestOverwriteDuringRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	long := filepath.Join(t.TempDir(), "long.mp4")
	if err := media.GenerateMP4(ctx, long, &media.SampleOptions{Duration: 20 * time.Second, FrequencyHz: 330, Width: 64, Height: 48}); err != nil {
		t.Fatal(err)
	}
	longData, err := os.ReadFile(long)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		// upload writes the first version and returns its ETag.
		upload func(p *pipeline, blob string) string
		// newerFirst settles the new version's task before the old one's.
		newerFirst bool
		wantMsg    string
	}{
		{"old version without contentMD5", func(p *pipeline, blob string) string { return p.uploadBlocks(blob, longData, false) }, false, "after the request was accepted"},
		{"old version proven by MD5, settled last", func(p *pipeline, blob string) string { return p.upload(blob, longData) }, true, "newer version"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := startPipeline(t, noSettling)
			const blob = "show/ep.mp4"
			old := p.requestFor(blob, tc.upload(p, blob))
			p.waitTaskCompleted(old.TaskID)
			newETag := p.upload(blob, sample(t, "tone3s.mp4"))
			cur := p.requestFor(blob, newETag)
			p.waitTaskCompleted(cur.TaskID)
			if tc.newerFirst {
				p.invokeTaskFinished(cur.TaskID)
				if a := p.waitAnswer(cur.ID); a.Status != results.StatusSucceeded {
					t.Fatalf("the new version's request: %s (%+v)", a.Status, a.Failure)
				}
			}
			p.settleInBackground()

			oldAns, curAns := p.waitAnswer(old.ID), p.waitAnswer(cur.ID)
			if f := oldAns.Failure; oldAns.Status != results.StatusFailed || f == nil || f.Code != results.CodeInputChanged || oldAns.Output != nil || !strings.Contains(f.Message, tc.wantMsg) {
				t.Errorf("the overwritten version's request: %s, failure %+v, output %+v; want failed %s (%q) without output", oldAns.Status, f, oldAns.Output, results.CodeInputChanged, tc.wantMsg)
			}
			if curAns.Status != results.StatusSucceeded || curAns.Output == nil || curAns.Output.Blob != "show/ep.mp3" {
				t.Errorf("the new version's request: %s, output %+v; want succeeded with show/ep.mp3", curAns.Status, curAns.Output)
			}
			p.checkMP3("show/ep.mp3", 3*time.Second)
			if left := p.stagedLeft(); len(left) != 0 {
				t.Errorf("staged MP3s left behind: %v", left)
			}
			p.checkOneAnswerEach()
		})
	}
}

// TestMadeUpETag: an arrival naming a version the blob never had fails
// with version_not_found and writes no MP3, instead of transcoding
// whatever the blob holds.
func TestMadeUpETag(t *testing.T) {
	p := startPipeline(t, map[string]string{"AzureWebJobs.BlobCreated.Disabled": "true"})
	data := sample(t, "tone2s.mp4")
	const blob = "real.mp4"
	p.upload(blob, data)
	time.Sleep(1100 * time.Millisecond) // Last-Modified has one-second resolution: the request comes after the upload
	p.send("bogus-1", map[string]any{"container": p.ep.InputContainer, "blob": blob, "etag": "0xDEADBEEF", "size": len(data),
		"output": "bogus/out.mp3", "correlation": "order-bogus"})
	a := p.waitAnswer("bogus-1")
	wantAnswer(t, a, results.StatusFailed, "order-bogus", "")
	if a.Failure == nil || a.Failure.Code != results.CodeVersionNotFound || a.Failure.Category != results.CategoryInput || !strings.Contains(a.Failure.Message, "0xDEADBEEF") {
		t.Errorf("made-up ETag: failure %+v, want %s naming the version", a.Failure, results.CodeVersionNotFound)
	}
	for _, n := range p.blobNames(p.ep.OutputContainer) {
		if strings.HasSuffix(n, ".mp3") || strings.HasPrefix(n, plan.StagingPrefix) {
			t.Errorf("output container holds %q, want no MP3 for a made-up version", n)
		}
	}
	p.checkOneAnswerEach()
}

// TestStagedMP3LostBeforeSettle: an MP3 that Storage lost after the task
// uploaded it (deleted behind the pipeline's back, as a storage crash
// loses acknowledged writes) is not reported as a success: the request is
// resubmitted, and its one answer is the success of the attempt whose MP3
// is really there.
func TestStagedMP3LostBeforeSettle(t *testing.T) {
	p := startPipeline(t, noSettling)
	const blob = "lost.mp4"
	etag := p.upload(blob, sample(t, "tone2s.mp4"))
	e := p.requestFor(blob, etag)
	p.waitTaskCompleted(e.TaskID)
	staged := plan.StagingName(e.TaskID)
	if _, err := p.blobs.DeleteBlob(p.ctx(), p.ep.OutputContainer, staged, nil); err != nil {
		t.Fatalf("delete the staged MP3 %s: %v", staged, err)
	}
	p.settleInBackground()
	a := p.waitAnswer(e.ID)
	if a.Status != results.StatusSucceeded || a.Attempts == nil || a.Attempts.Resubmits != 1 || a.TaskID == e.TaskID {
		t.Errorf("answer %s (task %s, attempts %+v, failure %+v); want the success of a resubmitted attempt, not of task %s", a.Status, a.TaskID, a.Attempts, a.Failure, e.TaskID)
	}
	p.checkMP3("lost.mp3", 2*time.Second)
	p.checkOneAnswerEach()
}

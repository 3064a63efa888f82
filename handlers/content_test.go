package handlers

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/ffbatch/ffbatch/internal/arrival"
	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/plan"
	"github.com/ffbatch/ffbatch/internal/results"
)

var (
	sumA   = md5.Sum([]byte("content A"))
	sumB   = md5.Sum([]byte("content B"))
	md5A   = base64.StdEncoding.EncodeToString(sumA[:])
	md5B   = base64.StdEncoding.EncodeToString(sumB[:])
	hashed = func(sum string) string { return fmt.Sprintf(`,"contentMD5":%q`, sum) }
)

// contentOf is the Content an arrival for blob with default preset and
// output asks for.
func contentOf(blob, sum string, size int64) *results.Content {
	return &results.Content{MD5: sum, Size: size, Preset: "mp3-192k-cbr", Output: plan.OutputName(blob)}
}

func TestBlobCreatedContentMD5(t *testing.T) {
	const subject = "/blobServices/default/containers/input/blobs/a.mp4"
	tests := []struct {
		name     string
		setup    func(f *fixture)
		wantSent bool
		wantMD5  string
	}{
		{"single-shot upload carries its md5", func(f *fixture) { f.blobs.setProps("input", "a.mp4", "0x2", 10, sumA[:]) }, true, md5A},
		{"block-list upload without md5", func(f *fixture) { f.blobs.setProps("input", "a.mp4", "0x2", 10, nil) }, true, ""},
		{"blob changed since the event", func(f *fixture) { f.blobs.setProps("input", "a.mp4", "0x3", 10, sumA[:]) }, true, ""},
		{"size differs from the event", func(f *fixture) { f.blobs.setProps("input", "a.mp4", "0x2", 11, sumA[:]) }, true, ""},
		{"properties unreadable", func(f *fixture) { f.blobs.propsErr = errors.New("storage down") }, true, ""},
		{"blob gone", func(f *fixture) {}, true, ""},
		{"identical to a succeeded version: skipped", func(f *fixture) {
			f.blobs.setProps("input", "a.mp4", "0x2", 10, sumA[:])
			f.status.docs = map[string]results.FileStatus{"input/a.mp4": {Container: "input", Blob: "a.mp4", ETag: "0x1", State: results.StateSucceeded, Content: contentOf("a.mp4", md5A, 10)}}
		}, false, ""},
		{"identical to a version in flight: skipped", func(f *fixture) {
			f.blobs.setProps("input", "a.mp4", "0x2", 10, sumA[:])
			f.status.docs = map[string]results.FileStatus{"input/a.mp4": {Container: "input", Blob: "a.mp4", ETag: "0x1", State: results.StateSubmitted, Content: contentOf("a.mp4", md5A, 10)}}
		}, false, ""},
		{"new content after success", func(f *fixture) {
			f.blobs.setProps("input", "a.mp4", "0x2", 10, sumB[:])
			f.status.docs = map[string]results.FileStatus{"input/a.mp4": {Container: "input", Blob: "a.mp4", ETag: "0x1", State: results.StateSucceeded, Content: contentOf("a.mp4", md5A, 10)}}
		}, true, md5B},
		{"identical to a failed version: retried", func(f *fixture) {
			f.blobs.setProps("input", "a.mp4", "0x2", 10, sumA[:])
			f.status.docs = map[string]results.FileStatus{"input/a.mp4": {Container: "input", Blob: "a.mp4", ETag: "0x1", State: results.StateFailed, Content: contentOf("a.mp4", md5A, 10)}}
		}, true, md5A},
		{"status store down: sent anyway", func(f *fixture) {
			f.blobs.setProps("input", "a.mp4", "0x2", 10, sumA[:])
			f.status.err = errors.New("status store down")
		}, true, md5A},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, nil)
			tc.setup(f)
			before, _ := f.status.Get(ctx, "input", "a.mp4")
			resp, err := f.app.BlobCreated(ctx, eventRequest("PutBlob", subject, `"0x2"`, 10))
			if err != nil {
				t.Fatalf("BlobCreated: %v", err)
			}
			if len(f.results.sent) != 0 {
				t.Errorf("published %d result events, want none", len(f.results.sent))
			}
			if got := len(f.arrivals.sent) == 1; got != tc.wantSent {
				t.Fatalf("sent %d arrivals, want sent=%v (logs %q)", len(f.arrivals.sent), tc.wantSent, resp.Logs)
			}
			f.status.err = nil
			st, _ := f.status.Get(ctx, "input", "a.mp4")
			if !tc.wantSent {
				if !strings.Contains(strings.Join(resp.Logs, "\n"), "identical content") {
					t.Errorf("logs = %q, want a line about identical content", resp.Logs)
				}
				if st == nil || before == nil || st.ETag != before.ETag || st.State != before.State {
					t.Errorf("status changed by a skipped upload: %+v, was %+v", st, before)
				}
				return
			}
			arr, err := arrival.Parse(f.arrivals.sent[0].Body)
			if err != nil {
				t.Fatalf("sent arrival does not parse: %v", err)
			}
			if arr.ContentMD5 != tc.wantMD5 || arr.ETag != "0x2" {
				t.Errorf("arrival = %+v, want contentMD5 %q", arr, tc.wantMD5)
			}
			if tc.name == "status store down: sent anyway" {
				return
			}
			if st == nil || st.ETag != "0x2" || st.State != results.StateQueued {
				t.Fatalf("status = %+v, want queued 0x2", st)
			}
			if (st.Content != nil) != (tc.wantMD5 != "") || (st.Content != nil && *st.Content != *contentOf("a.mp4", tc.wantMD5, 10)) {
				t.Errorf("status content = %+v, want md5 %q", st.Content, tc.wantMD5)
			}
		})
	}
}

func TestSubmitTasksIdenticalContent(t *testing.T) {
	doc := func(etag string, st results.State, c *results.Content) map[string]results.FileStatus {
		return map[string]results.FileStatus{"input/a.mp4": {Container: "input", Blob: "a.mp4", ETag: etag, State: st, TaskID: "t-old", Content: c}}
	}
	tests := []struct {
		name      string
		docs      map[string]results.FileStatus
		bodies    []string
		wantTasks []string // ETags of the tasks added
	}{
		{"identical to succeeded version", doc("0x1", results.StateSucceeded, contentOf("a.mp4", md5A, 10)),
			[]string{arrivalJSON("a.mp4", "0x2", 10, hashed(md5A))}, nil},
		{"identical to submitted version", doc("0x1", results.StateSubmitted, contentOf("a.mp4", md5A, 10)),
			[]string{arrivalJSON("a.mp4", "0x2", 10, hashed(md5A))}, nil},
		{"identical to running version", doc("0x1", results.StateRunning, contentOf("a.mp4", md5A, 10)),
			[]string{arrivalJSON("a.mp4", "0x2", 10, hashed(md5A))}, nil},
		{"same version already succeeded (late resend)", doc("0x2", results.StateSucceeded, contentOf("a.mp4", md5A, 10)),
			[]string{arrivalJSON("a.mp4", "0x2", 10, hashed(md5A))}, nil},
		{"identical to a version only queued", doc("0x1", results.StateQueued, contentOf("a.mp4", md5A, 10)),
			[]string{arrivalJSON("a.mp4", "0x2", 10, hashed(md5A))}, []string{"0x2"}},
		{"identical to failed version", doc("0x1", results.StateFailed, contentOf("a.mp4", md5A, 10)),
			[]string{arrivalJSON("a.mp4", "0x2", 10, hashed(md5A))}, []string{"0x2"}},
		{"new content", doc("0x1", results.StateSucceeded, contentOf("a.mp4", md5A, 10)),
			[]string{arrivalJSON("a.mp4", "0x2", 10, hashed(md5B))}, []string{"0x2"}},
		{"same md5, other size", doc("0x1", results.StateSucceeded, contentOf("a.mp4", md5A, 10)),
			[]string{arrivalJSON("a.mp4", "0x2", 11, hashed(md5A))}, []string{"0x2"}},
		{"same content, other preset", doc("0x1", results.StateSucceeded, contentOf("a.mp4", md5A, 10)),
			[]string{arrivalJSON("a.mp4", "0x2", 10, hashed(md5A)+`,"preset":"mp3-v2-vbr"`)}, []string{"0x2"}},
		{"same content, other output", doc("0x1", results.StateSucceeded, contentOf("a.mp4", md5A, 10)),
			[]string{arrivalJSON("a.mp4", "0x2", 10, hashed(md5A)+`,"output":"b.mp3"`)}, []string{"0x2"}},
		{"upstream arrival without hash", doc("0x1", results.StateSucceeded, contentOf("a.mp4", md5A, 10)),
			[]string{arrivalJSON("a.mp4", "0x2", 10, "")}, []string{"0x2"}},
		{"earlier version had no hash", doc("0x1", results.StateSucceeded, nil),
			[]string{arrivalJSON("a.mp4", "0x2", 10, hashed(md5A))}, []string{"0x2"}},
		{"two identical versions in one batch", nil,
			[]string{arrivalJSON("a.mp4", "0x1", 10, hashed(md5A)), arrivalJSON("a.mp4", "0x2", 10, hashed(md5A))}, []string{"0x1"}},
		{"one skipped, one new file in the batch", doc("0x1", results.StateSucceeded, contentOf("a.mp4", md5A, 10)),
			[]string{arrivalJSON("a.mp4", "0x2", 10, hashed(md5A)), arrivalJSON("b.mp4", "0x7", 10, hashed(md5A))}, []string{"0x7"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, nil)
			f.status.docs = tc.docs
			before, _ := f.status.Get(ctx, "input", "a.mp4")
			resp, err := f.app.SubmitTasks(ctx, sbBatchRequest(tc.bodies...))
			if err != nil {
				t.Fatalf("SubmitTasks: %v", err)
			}
			if err := f.app.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, task := range f.batch.added {
				fl, err := plan.FileOf(&batch.Task{ID: task.ID, EnvironmentSettings: task.EnvironmentSettings})
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, fl.ETag)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.wantTasks) {
				t.Errorf("tasks added for versions %v, want %v (logs %q)", got, tc.wantTasks, resp.Logs)
			}
			if len(f.results.sent) != 0 {
				t.Errorf("published %d result events, want none", len(f.results.sent))
			}
			if len(tc.wantTasks) == 0 {
				if n := len(f.batch.pools); n != 0 {
					t.Errorf("a pool was created for skipped arrivals only")
				}
				if !strings.Contains(strings.Join(resp.Logs, "\n"), "identical content") {
					t.Errorf("logs = %q, want a line about identical content", resp.Logs)
				}
				if st, _ := f.status.Get(ctx, "input", "a.mp4"); st == nil || before == nil || st.ETag != before.ETag || st.State != before.State {
					t.Errorf("status changed by a skipped arrival: %+v, was %+v", st, before)
				}
			}
		})
	}
}

// TestSubmitTasksRacingIdenticalUploads: identical uploads (new ETags,
// same bytes) arriving in concurrent invocations give exactly one task.
func TestSubmitTasksRacingIdenticalUploads(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	const racers = 8
	var wg sync.WaitGroup
	errs := make(chan error, racers)
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.app.SubmitTasks(ctx, sbBatchRequest(arrivalJSON("a.mp4", fmt.Sprintf("0x%d", i+1), 10, hashed(md5A))))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("SubmitTasks: %v", err)
		}
	}
	f.batch.mu.Lock()
	added := len(f.batch.added)
	f.batch.mu.Unlock()
	if added != 1 {
		t.Errorf("%d tasks added for %d identical uploads, want 1", added, racers)
	}
	f.status.mu.Lock()
	refused := f.status.claimsRefused
	f.status.mu.Unlock()
	if refused != racers-1 {
		t.Errorf("%d claims refused, want %d", refused, racers-1)
	}
}

func TestSubmitTasksClaimFailureFailsInvocation(t *testing.T) {
	f := newFixture(t, nil)
	f.status.err = errors.New("status store down")
	_, err := f.app.SubmitTasks(context.Background(), sbBatchRequest(arrivalJSON("a.mp4", "0x1", 10, hashed(md5A))))
	if err == nil {
		t.Fatal("SubmitTasks succeeded although the content check could not run")
	}
	if len(f.batch.added) != 0 {
		t.Errorf("added %d tasks without a content check", len(f.batch.added))
	}
	// Without a hash the status store stays best effort.
	if _, err := f.app.SubmitTasks(context.Background(), sbBatchRequest(arrivalJSON("b.mp4", "0x1", 10, ""))); err != nil {
		t.Errorf("SubmitTasks without hash failed on the status store: %v", err)
	}
}

// TestIdenticalReuploadEndToEnd drives the functions in order: upload,
// transcode, sweep, then an identical re-upload (Event Grid path, and the
// same arrival sent by an upstream system), then new content.
func TestIdenticalReuploadEndToEnd(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	const subject = "/blobServices/default/containers/input/blobs/a.mp4"
	upload := func(etag string, sum [16]byte) {
		t.Helper()
		f.blobs.setProps("input", "a.mp4", etag, 10, sum[:])
		if _, err := f.app.BlobCreated(ctx, eventRequest("PutBlob", subject, etag, 10)); err != nil {
			t.Fatal(err)
		}
	}
	submitSent := func() {
		t.Helper()
		var bodies []string
		for _, m := range f.arrivals.sent {
			bodies = append(bodies, string(m.Body))
		}
		f.arrivals.sent = nil
		if len(bodies) == 0 {
			return
		}
		if _, err := f.app.SubmitTasks(ctx, sbBatchRequest(bodies...)); err != nil {
			t.Fatal(err)
		}
		if err := f.app.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	sweep := func() {
		t.Helper()
		for _, task := range f.batch.added {
			if bt, ok := f.batch.tasks[task.ID]; ok && bt.State != batch.TaskStateCompleted {
				f.batch.complete(task.ID, batch.TaskExecutionInfo{Result: batch.TaskExecutionResultSuccess, ExitCode: i32(0)})
			}
		}
		if _, err := f.app.SweepPools(ctx, timerRequest()); err != nil {
			t.Fatal(err)
		}
	}
	succeeded := func() []string {
		var etags []string
		for _, m := range f.results.sent {
			var ev results.Event
			if err := json.Unmarshal(m.Body, &ev); err != nil {
				t.Fatal(err)
			}
			if ev.Status == results.StatusSucceeded {
				etags = append(etags, ev.File.ETag)
			}
		}
		return etags
	}

	upload("0x1", sumA)
	submitSent()
	sweep()
	if got := succeeded(); fmt.Sprint(got) != "[0x1]" {
		t.Fatalf("after the first upload: succeeded %v", got)
	}
	if st, _ := f.status.Get(ctx, "input", "a.mp4"); st == nil || st.Content == nil || st.Content.MD5 != md5A {
		t.Fatalf("succeeded status does not remember the content: %+v", st)
	}

	upload("0x2", sumA) // identical re-upload
	if n := len(f.arrivals.sent); n != 0 {
		t.Errorf("identical re-upload sent %d arrivals", n)
	}
	// The same version announced directly (upstream path) is skipped too.
	direct := arrivalJSON("a.mp4", "0x2", 10, hashed(md5A))
	if _, err := f.app.SubmitTasks(ctx, sbBatchRequest(direct)); err != nil {
		t.Fatal(err)
	}
	sweep()
	if n := len(f.batch.added); n != 1 {
		t.Errorf("identical re-upload: %d tasks in all, want 1", n)
	}
	if got := succeeded(); fmt.Sprint(got) != "[0x1]" {
		t.Errorf("identical re-upload: succeeded events %v, want [0x1]", got)
	}

	upload("0x3", sumB) // new content
	submitSent()
	sweep()
	if got := succeeded(); fmt.Sprint(got) != "[0x1 0x3]" {
		t.Errorf("new content: succeeded events %v, want [0x1 0x3]", got)
	}
	var ev results.Event
	_ = json.Unmarshal(f.results.sent[len(f.results.sent)-1].Body, &ev)
	if ev.File == nil || ev.File.ContentMD5 != md5B {
		t.Errorf("result event file = %+v, want contentMD5 %s", ev.File, md5B)
	}
}

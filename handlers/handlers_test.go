package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/arrival"
	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/config"
	"github.com/ffbatch/ffbatch/internal/customhandler"
	"github.com/ffbatch/ffbatch/internal/plan"
	"github.com/ffbatch/ffbatch/internal/results"
)

// hostString encodes a value the way the host does for string data:
// JSON-encoded, then JSON-encoded again.
func hostString(s string) json.RawMessage {
	once, _ := json.Marshal(s)
	twice, _ := json.Marshal(string(once))
	return twice
}

// sbBatchRequest builds a cardinality-many Service Bus invocation in the
// host's shape: Data is a JSON string holding an array of strings, and the
// metadata *Array keys are JSON strings holding arrays.
func sbBatchRequest(bodies ...string) *customhandler.InvokeRequest {
	arr, _ := json.Marshal(bodies)
	data, _ := json.Marshal(string(arr))
	ids := make([]string, len(bodies))
	counts := make([]int, len(bodies))
	for i := range bodies {
		ids[i] = fmt.Sprintf("msg-%d", i)
		counts[i] = 1
	}
	idArr, _ := json.Marshal(ids)
	cntArr, _ := json.Marshal(counts)
	idStr, _ := json.Marshal(string(idArr))
	cntStr, _ := json.Marshal(string(cntArr))
	return &customhandler.InvokeRequest{
		Data:     map[string]json.RawMessage{bindingArrivals: data},
		Metadata: map[string]json.RawMessage{"MessageIdArray": idStr, "DeliveryCountArray": cntStr, "sys": json.RawMessage(`{"MethodName":"SubmitTasks"}`)},
	}
}

func eventRequest(api, subject, etag string, size int64) *customhandler.InvokeRequest {
	ev := map[string]any{
		"topic": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct", "subject": subject,
		"eventType": "Microsoft.Storage.BlobCreated", "eventTime": "2026-11-27T12:00:00Z", "id": "ev-1",
		"data":        map[string]any{"api": api, "eTag": etag, "contentLength": size, "blobType": "BlockBlob", "url": "https://acct.blob.core.windows.net/x"},
		"dataVersion": "", "metadataVersion": "1",
	}
	b, _ := json.Marshal(ev)
	return &customhandler.InvokeRequest{Data: map[string]json.RawMessage{bindingEvent: b}, Metadata: map[string]json.RawMessage{}}
}

func arrivalJSON(blob, etag string, size int64, extra string) string {
	return fmt.Sprintf(`{"container":"input","blob":%q,"etag":%q,"size":%d%s}`, blob, etag, size, extra)
}

func TestBlobCreated(t *testing.T) {
	tests := []struct {
		name     string
		req      *customhandler.InvokeRequest
		wantSent bool
		wantBlob string
		wantRej  bool
	}{
		{"put blob", eventRequest("PutBlob", "/blobServices/default/containers/input/blobs/a.mp4", "0x1", 10), true, "a.mp4", false},
		{"block list, nested, spaces, uppercase", eventRequest("PutBlockList", "/blobServices/default/containers/input/blobs/shows/ep 1.MP4", "0x2", 10), true, "shows/ep 1.MP4", false},
		{"copy", eventRequest("CopyBlob", "/blobServices/default/containers/input/blobs/c.Mp4", "0x3", 10), true, "c.Mp4", false},
		{"flush with close", eventRequest("FlushWithClose", "/blobServices/default/containers/input/blobs/d.mp4", "0x4", 10), true, "d.mp4", false},
		{"uncommitted api ignored", eventRequest("PutBlock", "/blobServices/default/containers/input/blobs/a.mp4", "0x1", 10), false, "", false},
		{"other container ignored", eventRequest("PutBlob", "/blobServices/default/containers/output/blobs/a.mp4", "0x1", 10), false, "", false},
		{"not mp4 ignored", eventRequest("PutBlob", "/blobServices/default/containers/input/blobs/a.mp3", "0x1", 10), false, "", false},
		{"mp4 in the middle ignored", eventRequest("PutBlob", "/blobServices/default/containers/input/blobs/a.mp4.part", "0x1", 10), false, "", false},
		{"empty blob rejected", eventRequest("PutBlob", "/blobServices/default/containers/input/blobs/empty.mp4", "0x1", 0), false, "", true},
		{"dot segment rejected", eventRequest("PutBlob", "/blobServices/default/containers/input/blobs/a/../b.mp4", "0x1", 5), false, "", true},
		{"other event type ignored", &customhandler.InvokeRequest{Data: map[string]json.RawMessage{bindingEvent: json.RawMessage(`{"eventType":"Microsoft.Storage.BlobDeleted","subject":"/blobServices/default/containers/input/blobs/a.mp4","data":{}}`)}}, false, "", false},
		{"undecodable event ignored", &customhandler.InvokeRequest{Data: map[string]json.RawMessage{bindingEvent: json.RawMessage(`"hello"`)}}, false, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			resp, err := f.app.BlobCreated(context.Background(), tc.req)
			if err != nil {
				t.Fatalf("BlobCreated: %v", err)
			}
			if len(resp.Logs) == 0 {
				t.Errorf("no log line")
			}
			if got := len(f.arrivals.sent) == 1; got != tc.wantSent {
				t.Fatalf("sent %d arrivals, want sent=%v", len(f.arrivals.sent), tc.wantSent)
			}
			if got := len(f.results.sent) == 1; got != tc.wantRej {
				t.Fatalf("published %d results, want rejected=%v", len(f.results.sent), tc.wantRej)
			}
			if tc.wantRej {
				var ev results.Event
				_ = json.Unmarshal(f.results.sent[0].Body, &ev)
				if ev.Status != results.StatusRejected || ev.Rejection.Reason == "" {
					t.Errorf("result = %+v", ev)
				}
				if ev.File == nil || ev.File.Container != "input" || ev.File.Blob == "" || ev.File.ETag == "" {
					t.Errorf("rejection of a committed blob does not name it: file = %+v", ev.File)
				}
			}
			if !tc.wantSent {
				return
			}
			m := f.arrivals.sent[0]
			arr, err := arrival.Parse(m.Body)
			if err != nil {
				t.Fatalf("sent arrival does not parse: %v", err)
			}
			if arr.Blob != tc.wantBlob || arr.Container != "input" || arr.Size != 10 {
				t.Errorf("arrival = %+v", arr)
			}
			if m.MessageID == nil || *m.MessageID != arr.MessageID() {
				t.Errorf("MessageID = %v, want %s", m.MessageID, arr.MessageID())
			}
			if st, err := f.status.Get(context.Background(), "input", tc.wantBlob); err != nil || st.State != results.StateQueued {
				t.Errorf("status = %+v, %v", st, err)
			}
		})
	}
}

func TestBlobCreatedSendFailureFailsInvocation(t *testing.T) {
	f := newFixture(t, nil)
	f.arrivals.err = errors.New("service bus down")
	_, err := f.app.BlobCreated(context.Background(), eventRequest("PutBlob", "/blobServices/default/containers/input/blobs/a.mp4", "0x1", 10))
	if err == nil {
		t.Fatalf("BlobCreated succeeded although the arrival was not sent")
	}
}

func TestBlobCreatedDuplicateEventsSameMessageID(t *testing.T) {
	f := newFixture(t, nil)
	for range 2 {
		if _, err := f.app.BlobCreated(context.Background(), eventRequest("PutBlob", "/blobServices/default/containers/input/blobs/a.mp4", "\"0x1\"", 10)); err != nil {
			t.Fatal(err)
		}
	}
	if *f.arrivals.sent[0].MessageID != *f.arrivals.sent[1].MessageID {
		t.Errorf("redelivered event got a different message id")
	}
}

func TestSubmitTasks(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	req := sbBatchRequest(
		arrivalJSON("a.mp4", "0x1", 10, ""),
		arrivalJSON("shows/ep 1.MP4", "0x2", 20, `,"preset":"mp3-v2-vbr","correlation":"c-2"`),
		`{"container":"input","blob":"../evil.mp4","etag":"0x3","size":5}`,
		`not json`,
		`{"container":"other","blob":"x.mp4","etag":"0x4","size":5}`,
		arrivalJSON("a.mp4", "0x1", 10, ""), // duplicate in the batch
	)
	resp, err := f.app.SubmitTasks(ctx, req)
	if err != nil {
		t.Fatalf("SubmitTasks: %v", err)
	}
	if len(f.batch.added) != 2 {
		t.Fatalf("added %d tasks, want 2", len(f.batch.added))
	}
	if len(f.results.sent) != 3 {
		t.Fatalf("published %d rejections, want 3", len(f.results.sent))
	}
	reasons := map[string]bool{}
	for _, m := range f.results.sent {
		var ev results.Event
		if err := json.Unmarshal(m.Body, &ev); err != nil {
			t.Fatal(err)
		}
		reasons[ev.Rejection.Reason] = true
		if *m.Subject != "rejected" || m.ApplicationProperties["status"] != "rejected" {
			t.Errorf("rejection message properties: subject %v, props %v", *m.Subject, m.ApplicationProperties)
		}
	}
	for _, want := range []string{"dot_segment", "not_json", "container_not_allowed"} {
		if !reasons[want] {
			t.Errorf("no rejection with reason %s (got %v)", want, reasons)
		}
	}
	pool := f.batch.pools["ffbatch-pool"]
	if pool == nil || !pool.EnableAutoScale || !strings.Contains(pool.AutoScaleFormula, "$PendingTasks") {
		t.Errorf("pool = %+v", pool)
	}
	if f.batch.jobs["ffbatch-job"] == nil {
		t.Errorf("job not created")
	}
	if !f.blobs.containers["output"] {
		t.Errorf("output container not ensured")
	}
	task := f.batch.added[1]
	if task.ID != plan.TaskID("input", "shows/ep 1.MP4", "0x2", "mp3-v2-vbr", 0) {
		t.Errorf("task id %s not derived from the file", task.ID)
	}
	if strings.Contains(task.CommandLine, "ep 1") || !strings.Contains(task.CommandLine, "-q:a 2") {
		t.Errorf("command line = %q", task.CommandLine)
	}
	if task.OutputFiles[0].Destination.Container.Path != "shows/ep 1.mp3" {
		t.Errorf("output path = %q", task.OutputFiles[0].Destination.Container.Path)
	}
	if err := f.app.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if st, _ := f.status.Get(ctx, "input", "shows/ep 1.MP4"); st == nil || st.State != results.StateSubmitted || st.TaskID != task.ID {
		t.Errorf("status = %+v", st)
	}
	if !strings.Contains(strings.Join(resp.Logs, "\n"), "2 added") {
		t.Errorf("logs = %q", resp.Logs)
	}

	// Redelivery of the same batch: no new tasks, same rejection ids.
	firstIDs := []string{*f.results.sent[0].MessageID}
	if _, err := f.app.SubmitTasks(ctx, req); err != nil {
		t.Fatalf("redelivered SubmitTasks: %v", err)
	}
	if len(f.batch.added) != 2 {
		t.Errorf("redelivery added tasks: %d", len(f.batch.added))
	}
	if *f.results.sent[3].MessageID != firstIDs[0] {
		t.Errorf("rejection ids differ on redelivery")
	}
}

func TestSubmitTasksFailures(t *testing.T) {
	valid := arrivalJSON("a.mp4", "0x1", 10, "")
	tests := []struct {
		name       string
		setup      func(f *fixture)
		wantErr    bool
		wantFailed int // failed result events
	}{
		{"batch unavailable", func(f *fixture) { f.batch.fail["GetPool"] = batchErr(503, batch.CodeServerBusy) }, true, 0},
		{"pool being deleted", func(f *fixture) {
			f.batch.pools["ffbatch-pool"] = &batch.Pool{ID: "ffbatch-pool", State: batch.PoolStateDeleting}
		}, true, 0},
		{"job terminated by an idle sweep", func(f *fixture) {
			f.batch.jobs["ffbatch-job"] = &batch.Job{ID: "ffbatch-job", State: batch.JobStateCompleted}
		}, true, 0},
		{"add tasks call fails", func(f *fixture) { f.batch.fail["AddTasks"] = batchErr(500, batch.CodeInternalError) }, true, 0},
		{"per-task server error", func(f *fixture) {
			id := plan.TaskID("input", "a.mp4", "0x1", "mp3-192k-cbr", 0)
			f.batch.addFailures[id] = batch.TaskAddFailure{TaskID: id, Status: batch.TaskAddStatusServerError, Code: "ServerBusy"}
		}, true, 0},
		{"per-task client error is recorded", func(f *fixture) {
			id := plan.TaskID("input", "a.mp4", "0x1", "mp3-192k-cbr", 0)
			f.batch.addFailures[id] = batch.TaskAddFailure{TaskID: id, Status: batch.TaskAddStatusClientError, Code: "InvalidPropertyValue", Message: "bad"}
		}, false, 1},
		{"results topic down", func(f *fixture) { f.results.err = errors.New("down") }, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			tc.setup(f)
			_, err := f.app.SubmitTasks(context.Background(), sbBatchRequest(valid))
			if (err != nil) != tc.wantErr {
				t.Fatalf("SubmitTasks error = %v, wantErr %v", err, tc.wantErr)
			}
			if len(f.results.sent) != tc.wantFailed {
				t.Errorf("published %d events, want %d", len(f.results.sent), tc.wantFailed)
			}
		})
	}
	t.Run("results topic down with a rejection", func(t *testing.T) {
		f := newFixture(t, nil)
		f.results.err = errors.New("down")
		if _, err := f.app.SubmitTasks(context.Background(), sbBatchRequest(valid, `{}`)); err == nil {
			t.Fatalf("SubmitTasks succeeded although the rejection was not published")
		}
	})
}

func TestSubmitTasksManagedScaling(t *testing.T) {
	f := newFixture(t, func(c *config.Config) { c.Scaling = config.ScalingManaged })
	var bodies []string
	for i := range 3 {
		bodies = append(bodies, arrivalJSON(fmt.Sprintf("f%d.mp4", i), "0x1", 10, ""))
	}
	if _, err := f.app.SubmitTasks(context.Background(), sbBatchRequest(bodies...)); err != nil {
		t.Fatal(err)
	}
	pool := f.batch.pools["ffbatch-pool"]
	if pool.EnableAutoScale {
		t.Fatalf("managed pool has autoscale on")
	}
	// 3 tasks at 2 slots: 2 nodes, dedicated (max 1) first, then 1 spot.
	if len(f.batch.resizes) != 1 || pool.TargetDedicatedNodes != 1 || pool.TargetLowPriorityNodes != 1 {
		t.Errorf("resizes = %d, targets %d/%d", len(f.batch.resizes), pool.TargetDedicatedNodes, pool.TargetLowPriorityNodes)
	}
	if f.batch.resizes[0].NodeDeallocationOption != batch.NodeDeallocationOptionTaskCompletion {
		t.Errorf("deallocation = %s", f.batch.resizes[0].NodeDeallocationOption)
	}
}

func timerRequest() *customhandler.InvokeRequest {
	return &customhandler.InvokeRequest{Data: map[string]json.RawMessage{bindingTimer: json.RawMessage(`{"Schedule":{"AdjustForDST":true},"ScheduleStatus":null,"IsPastDue":false}`)}}
}

func i32(v int32) *int32 { return &v }

func TestSweepPools(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	var bodies []string
	for _, n := range []string{"ok.mp4", "broken.mp4", "preempted.mp4", "exhausted.mp4", "running.mp4"} {
		bodies = append(bodies, arrivalJSON(n, "0x1", 10, ""))
	}
	bodies = append(bodies, arrivalJSON("exhausted.mp4", "0x1", 10, `,"resubmit":2`))
	if _, err := f.app.SubmitTasks(ctx, sbBatchRequest(bodies...)); err != nil {
		t.Fatal(err)
	}
	// The fake status store is last-write-wins (the real one orders by
	// resubmission and state); let the background "submitted" writes land
	// first, as they would in the minutes before a task completes.
	if err := f.app.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	id := func(blob string, r int) string { return plan.TaskID("input", blob, "0x1", "mp3-192k-cbr", r) }
	start := f.now.Add(time.Minute)
	end := start.Add(5 * time.Second)
	f.batch.complete(id("ok.mp4", 0), batch.TaskExecutionInfo{Result: batch.TaskExecutionResultSuccess, ExitCode: i32(0), StartTime: start, EndTime: end})
	f.batch.complete(id("broken.mp4", 0), batch.TaskExecutionInfo{Result: batch.TaskExecutionResultFailure, ExitCode: i32(1), RetryCount: 2, StartTime: start, EndTime: end,
		FailureInfo: &batch.FailureInfo{Category: batch.ErrorCategoryUserError, Code: "FailureExitCode", Message: "exit 1"}})
	f.blobs.blobs["output/logs/"+id("broken.mp4", 0)+"/stderr.txt"] = []byte("ffmpeg noise\ninput.mp4: Invalid data found when processing input\n")
	f.batch.complete(id("preempted.mp4", 0), batch.TaskExecutionInfo{Result: batch.TaskExecutionResultFailure,
		FailureInfo: &batch.FailureInfo{Category: batch.ErrorCategoryServerError, Code: "NodePreempted"}})
	f.batch.complete(id("exhausted.mp4", 2), batch.TaskExecutionInfo{Result: batch.TaskExecutionResultFailure,
		FailureInfo: &batch.FailureInfo{Category: batch.ErrorCategoryUserError, Code: "FileUploadMiscError"}})
	f.batch.complete(id("exhausted.mp4", 0), batch.TaskExecutionInfo{Result: batch.TaskExecutionResultSuccess, ExitCode: i32(0)})

	resp, err := f.app.SweepPools(ctx, timerRequest())
	if err != nil {
		t.Fatalf("SweepPools: %v", err)
	}
	events := map[string]results.Event{}
	for _, m := range f.results.sent {
		var ev results.Event
		if err := json.Unmarshal(m.Body, &ev); err != nil {
			t.Fatal(err)
		}
		events[ev.File.Blob+"/"+ev.TaskID] = ev
		if *m.MessageID != ev.ID {
			t.Errorf("message id %s != event id %s", *m.MessageID, ev.ID)
		}
	}
	ok := events["ok.mp4/"+id("ok.mp4", 0)]
	if ok.Status != results.StatusSucceeded || ok.Output.URL != "https://acct.blob.core.windows.net/output/ok.mp3" || ok.Timings.RunMillis != 5000 {
		t.Errorf("ok event = %+v", ok)
	}
	broken := events["broken.mp4/"+id("broken.mp4", 0)]
	if broken.Status != results.StatusFailed || broken.Failure.Category != results.CategoryFFmpeg || *broken.Failure.ExitCode != 1 ||
		!strings.HasSuffix(broken.Failure.Stderr, "Invalid data found when processing input") || broken.Attempts.Retries != 2 {
		t.Errorf("broken event = %+v / %+v", broken, broken.Failure)
	}
	ex := events["exhausted.mp4/"+id("exhausted.mp4", 2)]
	if ex.Status != results.StatusFailed || !ex.Failure.Transient || ex.Failure.Category != results.CategoryUpload || ex.Attempts.Resubmits != 2 {
		t.Errorf("exhausted event = %+v", ex)
	}
	if _, reported := events["preempted.mp4/"+id("preempted.mp4", 0)]; reported {
		t.Errorf("transient failure was reported instead of resubmitted")
	}
	if len(f.arrivals.scheduled) != 1 {
		t.Fatalf("scheduled %d resubmissions, want 1", len(f.arrivals.scheduled))
	}
	sch := f.arrivals.scheduled[0]
	arr, err := arrival.Parse(sch.msg.Body)
	if err != nil || arr.Blob != "preempted.mp4" || arr.Resubmit != 1 || *sch.msg.MessageID != arr.MessageID() || !strings.HasSuffix(*sch.msg.MessageID, "-r1") {
		t.Errorf("resubmission = %+v, %v, id %s", arr, err, *sch.msg.MessageID)
	}
	if !sch.at.Equal(f.now.Add(time.Minute)) {
		t.Errorf("scheduled at %v, want now+1m", sch.at)
	}
	if len(f.batch.deleted) != 5 {
		t.Errorf("deleted %d tasks, want 5: %v", len(f.batch.deleted), f.batch.deleted)
	}
	if len(f.batch.tasks) != 1 {
		t.Errorf("%d tasks left, want the running one", len(f.batch.tasks))
	}
	if st, _ := f.status.Get(ctx, "input", "preempted.mp4"); st.State != results.StateQueued || st.Resubmits != 1 {
		t.Errorf("preempted status = %+v", st)
	}
	if !strings.Contains(strings.Join(resp.Logs, "\n"), "2 succeeded, 2 failed, 1 resubmitted") {
		t.Errorf("logs = %q", resp.Logs)
	}

	// A second sweep finds nothing new.
	before := len(f.results.sent)
	if _, err := f.app.SweepPools(ctx, timerRequest()); err != nil {
		t.Fatal(err)
	}
	if len(f.results.sent) != before {
		t.Errorf("second sweep published again")
	}
}

func TestSweepPoolsIdleCleanup(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	if _, err := f.app.SubmitTasks(ctx, sbBatchRequest(arrivalJSON("a.mp4", "0x1", 10, ""))); err != nil {
		t.Fatal(err)
	}
	f.batch.complete(plan.TaskID("input", "a.mp4", "0x1", "mp3-192k-cbr", 0), batch.TaskExecutionInfo{Result: batch.TaskExecutionResultSuccess, ExitCode: i32(0)})

	steps := []struct {
		advance  time.Duration
		wantJob  bool
		wantPool bool
	}{
		{0, true, true},                // reports the task, job becomes empty: idle timer starts
		{10 * time.Minute, true, true}, // not yet
		{6 * time.Minute, false, false},
		{time.Minute, false, false}, // nothing left: no errors
	}
	for i, st := range steps {
		f.now = f.now.Add(st.advance)
		if _, err := f.app.SweepPools(ctx, timerRequest()); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		_, hasJob := f.batch.jobs["ffbatch-job"]
		_, hasPool := f.batch.pools["ffbatch-pool"]
		if hasJob != st.wantJob || hasPool != st.wantPool {
			t.Errorf("step %d: job %v pool %v, want %v %v", i, hasJob, hasPool, st.wantJob, st.wantPool)
		}
	}
	// New work re-creates both.
	if _, err := f.app.SubmitTasks(ctx, sbBatchRequest(arrivalJSON("b.mp4", "0x1", 10, ""))); err != nil {
		t.Fatal(err)
	}
	if f.batch.jobs["ffbatch-job"] == nil || f.batch.pools["ffbatch-pool"] == nil {
		t.Errorf("job or pool not re-created")
	}
}

func TestSweepPoolsRescuesTasksAddedDuringTermination(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(c *config.Config) { c.PoolIdleTimeout = 0 })
	f.batch.jobs["ffbatch-job"] = &batch.Job{ID: "ffbatch-job", State: batch.JobStateActive}
	f.batch.pools["ffbatch-pool"] = &batch.Pool{ID: "ffbatch-pool", State: batch.PoolStateActive}
	if _, err := f.app.SweepPools(ctx, timerRequest()); err != nil { // marks idle
		t.Fatal(err)
	}
	// A SubmitTasks slips a task in after the sweep counted none.
	file := plan.File{Container: "input", Blob: "late.mp4", ETag: "0x1", Size: 10, Preset: "mp3-192k-cbr", Output: "late.mp3", Correlation: "c-1"}
	preset, _ := plan.LookupPreset(file.Preset)
	task, err := plan.Task(file, preset, plan.TaskOptions{InputURL: "https://x/in?sig=s", OutputContainerURL: "https://x/out?sig=s", LogsPrefix: "logs/", MinWallClock: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	f.batch.onTerminate = func() {
		f.batch.tasks[task.ID] = &batch.Task{ID: task.ID, State: batch.TaskStateActive, EnvironmentSettings: task.EnvironmentSettings}
	}
	if _, err := f.app.SweepPools(ctx, timerRequest()); err != nil {
		t.Fatal(err)
	}
	if f.batch.jobs["ffbatch-job"] != nil || f.batch.pools["ffbatch-pool"] != nil {
		t.Errorf("job or pool not deleted")
	}
	if len(f.arrivals.sent) != 1 {
		t.Fatalf("rescued %d arrivals, want 1", len(f.arrivals.sent))
	}
	m := f.arrivals.sent[0]
	arr, err := arrival.Parse(m.Body)
	if err != nil || arr.Blob != "late.mp4" || arr.Correlation != "c-1" || !strings.HasSuffix(*m.MessageID, "-rescued") {
		t.Errorf("rescue message = %+v, %v, id %s", arr, err, *m.MessageID)
	}
}

func TestSweepPoolsIdleTimerResetByWork(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.batch.jobs["ffbatch-job"] = &batch.Job{ID: "ffbatch-job", State: batch.JobStateActive}
	f.batch.pools["ffbatch-pool"] = &batch.Pool{ID: "ffbatch-pool", State: batch.PoolStateActive}
	if _, err := f.app.SweepPools(ctx, timerRequest()); err != nil {
		t.Fatal(err)
	}
	if _, marked := idleSince(f.batch.jobs["ffbatch-job"]); !marked {
		t.Fatalf("idle mark not set")
	}
	if _, err := f.app.SubmitTasks(ctx, sbBatchRequest(arrivalJSON("a.mp4", "0x1", 10, ""))); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(time.Hour)
	if _, err := f.app.SweepPools(ctx, timerRequest()); err != nil {
		t.Fatal(err)
	}
	if f.batch.jobs["ffbatch-job"] == nil {
		t.Fatalf("job with an active task was deleted")
	}
	if _, marked := idleSince(f.batch.jobs["ffbatch-job"]); marked {
		t.Errorf("idle mark not cleared by new work")
	}
}

func TestSweepPoolsManagedShrink(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(c *config.Config) { c.Scaling = config.ScalingManaged })
	if _, err := f.app.SubmitTasks(ctx, sbBatchRequest(arrivalJSON("a.mp4", "0x1", 10, ""))); err != nil {
		t.Fatal(err)
	}
	if p := f.batch.pools["ffbatch-pool"]; p.TargetDedicatedNodes != 1 {
		t.Fatalf("pool not grown: %+v", p)
	}
	f.batch.complete(plan.TaskID("input", "a.mp4", "0x1", "mp3-192k-cbr", 0), batch.TaskExecutionInfo{Result: batch.TaskExecutionResultSuccess, ExitCode: i32(0)})
	if _, err := f.app.SweepPools(ctx, timerRequest()); err != nil {
		t.Fatal(err)
	}
	if p := f.batch.pools["ffbatch-pool"]; p.TargetDedicatedNodes != 0 || p.TargetLowPriorityNodes != 0 {
		t.Errorf("pool not shrunk: %+v", p)
	}
}

func TestSweepPoolsFailures(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		setup func(f *fixture)
	}{
		{"list fails", func(f *fixture) { f.batch.fail["ListTasks"] = batchErr(500, batch.CodeInternalError) }},
		{"results topic down", func(f *fixture) { f.results.err = errors.New("down") }},
		{"delete fails", func(f *fixture) { f.batch.fail["DeleteTask"] = batchErr(500, batch.CodeInternalError) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			if _, err := f.app.SubmitTasks(ctx, sbBatchRequest(arrivalJSON("a.mp4", "0x1", 10, ""))); err != nil {
				t.Fatal(err)
			}
			f.batch.complete(plan.TaskID("input", "a.mp4", "0x1", "mp3-192k-cbr", 0), batch.TaskExecutionInfo{Result: batch.TaskExecutionResultSuccess, ExitCode: i32(0)})
			tc.setup(f)
			if _, err := f.app.SweepPools(ctx, timerRequest()); err == nil {
				t.Fatalf("SweepPools succeeded")
			}
		})
	}
	t.Run("no job yet", func(t *testing.T) {
		f := newFixture(t, nil)
		if _, err := f.app.SweepPools(ctx, timerRequest()); err != nil {
			t.Fatalf("SweepPools on an empty account: %v", err)
		}
	})
}

func httpRequest(method, query string) *customhandler.InvokeRequest {
	q := map[string]string{}
	if query != "" {
		q["blob"] = query
	}
	qb, _ := json.Marshal(q)
	b := fmt.Sprintf(`{"Url":"http://localhost:7071/api/status","Method":%q,"Query":%s,"Headers":{"Accept":["application/json"]},"Params":{}}`, method, qb)
	return &customhandler.InvokeRequest{Data: map[string]json.RawMessage{bindingRequest: json.RawMessage(b)}}
}

func TestStatus(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	if _, err := f.app.SubmitTasks(ctx, sbBatchRequest(arrivalJSON("shows/ep 1.mp4", "0x1", 10, ""))); err != nil {
		t.Fatal(err)
	}
	if err := f.app.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	id := plan.TaskID("input", "shows/ep 1.mp4", "0x1", "mp3-192k-cbr", 0)
	f.batch.tasks[id].State = batch.TaskStateRunning
	f.batch.tasks[id].ExecutionInfo = &batch.TaskExecutionInfo{StartTime: f.now}
	tests := []struct {
		name       string
		req        *customhandler.InvokeRequest
		wantStatus int
		want       string
	}{
		{"running file", httpRequest("GET", "shows/ep 1.mp4"), 200, `"state":"running"`},
		{"unknown file", httpRequest("GET", "nope.mp4"), 404, "no status"},
		{"summary", httpRequest("GET", ""), 200, `"submitted":1`},
		{"post refused", httpRequest("POST", ""), 405, "only GET"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := f.app.Status(ctx, tc.req)
			if err != nil {
				t.Fatal(err)
			}
			out, ok := resp.Outputs[bindingResponse].(customhandler.HTTPResponse)
			if !ok {
				t.Fatalf("no http output: %+v", resp.Outputs)
			}
			if out.StatusCode != tc.wantStatus || !strings.Contains(out.Body, tc.want) {
				t.Errorf("status %d body %s; want %d containing %s", out.StatusCode, out.Body, tc.wantStatus, tc.want)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		n    int
		want time.Duration
	}{{1, time.Minute}, {2, 2 * time.Minute}, {3, 4 * time.Minute}, {30, 24 * time.Hour}}
	for _, tc := range tests {
		if got := backoff(time.Minute, tc.n); got != tc.want {
			t.Errorf("backoff(%d) = %v, want %v", tc.n, got, tc.want)
		}
	}
}

// TestFunctionDefinitions keeps function-definitions/ and host.json in
// step with the registered functions and binding names.
func TestFunctionDefinitions(t *testing.T) {
	f := newFixture(t, nil)
	mux := customhandler.NewMux(f.app.log, nil)
	f.app.Register(mux)
	want := map[string]struct{ trigger, name string }{
		FuncBlobCreated: {"eventGridTrigger", bindingEvent},
		FuncSubmitTasks: {"serviceBusTrigger", bindingArrivals},
		FuncSweepPools:  {"timerTrigger", bindingTimer},
		FuncStatus:      {"httpTrigger", bindingRequest},
	}
	dirs, err := os.ReadDir(filepath.Join("..", "function-definitions"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) != len(want) {
		t.Errorf("%d function folders, %d functions", len(dirs), len(want))
	}
	for _, d := range dirs {
		w, ok := want[d.Name()]
		if !ok {
			t.Errorf("folder %s has no registered function", d.Name())
			continue
		}
		b, err := os.ReadFile(filepath.Join("..", "function-definitions", d.Name(), "function.json"))
		if err != nil {
			t.Fatal(err)
		}
		var fj struct {
			Bindings []map[string]any `json:"bindings"`
		}
		if err := json.Unmarshal(b, &fj); err != nil {
			t.Fatalf("%s: %v", d.Name(), err)
		}
		trig := fj.Bindings[0]
		if trig["type"] != w.trigger || trig["name"] != w.name || trig["direction"] != "in" {
			t.Errorf("%s trigger binding = %v, want %s named %s", d.Name(), trig, w.trigger, w.name)
		}
		if w.trigger == "serviceBusTrigger" && (trig["cardinality"] != "many" || trig["dataType"] != "string") {
			t.Errorf("SubmitTasks needs cardinality many and dataType string (host#6487): %v", trig)
		}
		if w.trigger == "httpTrigger" && (len(fj.Bindings) != 2 || fj.Bindings[1]["name"] != bindingResponse || fj.Bindings[1]["type"] != "http") {
			t.Errorf("Status needs an http output named %s: %v", bindingResponse, fj.Bindings)
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/"+d.Name(), strings.NewReader(`{"Data":{},"Metadata":{}}`)))
		if rec.Code == http.StatusNotFound {
			t.Errorf("POST /%s is not routed", d.Name())
		}
	}
	var host struct {
		CustomHandler struct {
			Description struct {
				DefaultExecutablePath string `json:"defaultExecutablePath"`
			} `json:"description"`
			EnableForwardingHTTPRequest *bool `json:"enableForwardingHttpRequest"`
		} `json:"customHandler"`
		ExtensionBundle struct{ Version string } `json:"extensionBundle"`
		FunctionTimeout string                   `json:"functionTimeout"`
	}
	b, err := os.ReadFile(filepath.Join("..", "host.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &host); err != nil {
		t.Fatal(err)
	}
	if host.CustomHandler.Description.DefaultExecutablePath != "handler" || host.CustomHandler.EnableForwardingHTTPRequest == nil ||
		*host.CustomHandler.EnableForwardingHTTPRequest || host.ExtensionBundle.Version != "[4.*, 5.0.0)" || host.FunctionTimeout == "" {
		t.Errorf("host.json = %+v", host)
	}
}

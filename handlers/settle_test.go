package handlers

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/arrival"
	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/request"
	"github.com/ffbatch/ffbatch/internal/results"
)

func TestSweepPools(t *testing.T) {
	f := newFixture(t, nil)
	f.submit(t,
		message{id: "m-ok", body: arrivalJSON("input", "ok.mp4", "0x1", `,"correlation":"c-ok"`)},
		message{id: "m-broken", body: arrivalJSON("input", "broken.mp4", "0x1", "")},
		message{id: "m-preempted", body: arrivalJSON("input", "preempted.mp4", "0x1", `,"correlation":"c-p"`)},
		message{id: "m-exhausted", body: arrivalJSON("input", "exhausted.mp4", "0x1", `,"resubmit":2`)},
		message{id: "m-running", body: arrivalJSON("input", "running.mp4", "0x1", "")},
	)
	task := func(blob, id string) string { return f.entry(t, "input", blob, id).TaskID }
	start := f.now().Add(time.Minute)
	end := start.Add(5 * time.Second)
	f.succeed(task("ok.mp4", "m-ok"), start, end)
	broken := task("broken.mp4", "m-broken")
	f.batch.complete(broken, batch.TaskExecutionInfo{Result: batch.TaskExecutionResultFailure, ExitCode: i32(1), RetryCount: 2, StartTime: start, EndTime: end,
		FailureInfo: &batch.FailureInfo{Category: batch.ErrorCategoryUserError, Code: "FailureExitCode", Message: "exit 1"}})
	f.blobs.blobs["output/logs/"+broken+"/stderr.txt"] = []byte("ffmpeg noise\ninput.mp4: Invalid data found when processing input\n")
	preempted := task("preempted.mp4", "m-preempted")
	f.failTransiently(preempted)
	f.batch.complete(task("exhausted.mp4", "m-exhausted"), batch.TaskExecutionInfo{Result: batch.TaskExecutionResultFailure,
		FailureInfo: &batch.FailureInfo{Category: batch.ErrorCategoryUserError, Code: "FileUploadMiscError"}})

	resp := f.sweep(t)
	ok := wantAnswer(t, f, "m-ok", "c-ok", results.StatusSucceeded)
	if ok.Output.URL != "https://acct.blob.core.windows.net/output/ok.mp3" || ok.Timings.RunMillis != 5000 || ok.TaskID != task("ok.mp4", "m-ok") ||
		ok.Logs != "https://acct.blob.core.windows.net/output/logs/"+ok.TaskID {
		t.Errorf("ok answer = %+v", ok)
	}
	br := wantAnswer(t, f, "m-broken", "", results.StatusFailed)
	if br.Failure.Category != results.CategoryFFmpeg || *br.Failure.ExitCode != 1 || br.Failure.Transient ||
		!strings.HasSuffix(br.Failure.Stderr, "Invalid data found when processing input") || br.Attempts.Retries != 2 {
		t.Errorf("broken answer = %+v / %+v", br, br.Failure)
	}
	ex := wantAnswer(t, f, "m-exhausted", "", results.StatusFailed)
	if !ex.Failure.Transient || ex.Failure.Category != results.CategoryUpload || ex.Attempts.Resubmits != 2 {
		t.Errorf("exhausted answer = %+v / %+v", ex, ex.Failure)
	}
	wantNoAnswer(t, f, "m-preempted")
	wantNoAnswer(t, f, "m-running")
	if len(f.arrivals.scheduled) != 1 {
		t.Fatalf("scheduled %d resubmissions, want 1", len(f.arrivals.scheduled))
	}
	sch := f.arrivals.scheduled[0]
	arr, err := arrival.Parse(sch.msg.Body)
	if err != nil || arr.Blob != "preempted.mp4" || arr.Request != "m-preempted" || arr.Resubmit != 1 || arr.Correlation != "c-p" ||
		*sch.msg.MessageID != request.AttemptMessageID("m-preempted", 1) || *sch.msg.CorrelationID != "c-p" {
		t.Errorf("resubmission = %+v, %v, id %s", arr, err, *sch.msg.MessageID)
	}
	if !sch.at.Equal(f.now().Add(f.cfg.ResubmitBackoff)) {
		t.Errorf("scheduled at %v, want now + %v", sch.at, f.cfg.ResubmitBackoff)
	}
	if e := f.entry(t, "input", "preempted.mp4", "m-preempted"); e.State != results.StateQueued || e.Attempt != 1 {
		t.Errorf("preempted record = %+v", e)
	}
	if len(f.batch.deleted) != 4 || len(f.batch.tasks) != 1 {
		t.Errorf("deleted %v, %d tasks left; want 4 deleted and the running one left", f.batch.deleted, len(f.batch.tasks))
	}
	if !strings.Contains(strings.Join(resp.Logs, "\n"), "1 succeeded, 2 failed, 1 resubmitted") {
		t.Errorf("logs = %q", resp.Logs)
	}

	// A second sweep finds nothing new.
	before := len(f.results.sent)
	f.sweep(t)
	if len(f.results.sent) != before || len(f.arrivals.scheduled) != 1 {
		t.Errorf("second sweep published or scheduled again")
	}
}

// TestSweepPoolsSharedTask: requests for the same work in flight share one
// task; when it ends, each of them gets its own answer.
func TestSweepPoolsSharedTask(t *testing.T) {
	tests := []struct {
		name string
		// transient makes the shared task fail transiently first: the owner
		// is resubmitted and the others keep waiting.
		transient bool
	}{
		{"task succeeds", false},
		{"task fails transiently, then succeeds", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.submit(t, message{id: "m-a", body: arrivalJSON("input", "a.mp4", "0x1", `,"correlation":"c-a"`)})
			f.submit(t, message{id: "m-b", body: arrivalJSON("input", "a.mp4", "0x1", `,"correlation":"c-b"`)})
			f.drop(t, "a.mp4", "0x1")
			rec := f.record(t, "input", "a.mp4")
			drop := rec.Current().ID
			task := rec.Find("m-a").TaskID
			for _, id := range []string{"m-b", drop} {
				if e := rec.Find(id); e.SharedWith != "m-a" || e.TaskID != task {
					t.Errorf("request %s = %+v, want it to share m-a's task", id, e)
				}
			}
			if ids := f.batch.addedIDs(); len(ids) != 1 || len(f.arrivals.sent) != 0 {
				t.Fatalf("tasks %v, %d arrivals sent; want one task and no arrival", ids, len(f.arrivals.sent))
			}
			if tc.transient {
				f.failTransiently(task)
				f.sweep(t)
				if len(f.results.sent) != 0 || len(f.arrivals.scheduled) != 1 {
					t.Fatalf("%d answers, %d resubmissions; want the owner alone resubmitted", len(f.results.sent), len(f.arrivals.scheduled))
				}
				f.clock.advance(time.Hour)
				f.forward(t)
				task = f.entry(t, "input", "a.mp4", "m-a").TaskID
				if e := f.entry(t, "input", "a.mp4", "m-b"); e.TaskID != task {
					t.Errorf("sharing request waits on %s, want the new task %s", e.TaskID, task)
				}
			}
			f.succeed(task, f.now(), f.now().Add(time.Second))
			f.sweep(t)
			answers := map[string]string{"m-a": "c-a", "m-b": "c-b", drop: ""}
			for id, corr := range answers {
				if ev := wantAnswer(t, f, id, corr, results.StatusSucceeded); ev.TaskID != task || ev.Output.Blob != "a.mp3" || ev.Reused != nil {
					t.Errorf("request %s: answer on task %s, output %+v, reused %+v", id, ev.TaskID, ev.Output, ev.Reused)
				}
			}
			if len(f.results.sent) != len(answers) {
				t.Errorf("%d result messages for %d requests", len(f.results.sent), len(answers))
			}
			if n := len(f.batch.addedIDs()); n != 1+map[bool]int{true: 1}[tc.transient] {
				t.Errorf("%d tasks added", n)
			}
		})
	}
}

// TestSweepPoolsResubmission: a transient failure schedules the request's
// next attempt (message id request.AttemptMessageID) after its backoff; the
// attempt comes back through SubmitTasks with a new task id, and its end
// answers the request once.
func TestSweepPoolsResubmission(t *testing.T) {
	tests := []struct {
		name string
		// last is how the attempt after the resubmissions ends.
		lastSucceeds bool
		wantStatus   results.Status
	}{
		{"succeeds after two resubmissions", true, results.StatusSucceeded},
		{"fails after the last resubmission", false, results.StatusFailed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := message{id: "m-a", correlation: "c-a", body: arrivalJSON("input", "a.mp4", "0x1", `,"correlation":"c-a"`)}
			r := reqFor("m-a", "input", "a.mp4", "0x1", defaultPreset, "a.mp3")
			f := newFixture(t, nil)
			f.submit(t, msg)
			for n := 1; n <= f.cfg.MaxResubmits; n++ {
				f.failTransiently(request.TaskID(r, n-1))
				f.sweep(t)
				wantNoAnswer(t, f, "m-a")
				if len(f.arrivals.scheduled) != 1 {
					t.Fatalf("attempt %d: %d scheduled, want 1", n, len(f.arrivals.scheduled))
				}
				sch := f.arrivals.scheduled[0]
				if *sch.msg.MessageID != request.AttemptMessageID("m-a", n) || !sch.at.Equal(f.now().Add(backoff(f.cfg.ResubmitBackoff, n))) {
					t.Errorf("attempt %d scheduled as %s at %v", n, *sch.msg.MessageID, sch.at)
				}
				f.forward(t) // not due yet
				f.clock.advance(backoff(f.cfg.ResubmitBackoff, n))
				f.forward(t)
				want := request.TaskID(r, n)
				if ids := f.batch.addedIDs(); ids[len(ids)-1] != want {
					t.Fatalf("attempt %d: tasks %v, want a new task %s", n, ids, want)
				}
				// The original message redelivered now is stale: no task
				// is left to run but the attempt's.
				f.submit(t, msg)
				if live := f.batch.liveIDs(); len(live) != 1 || live[0] != want {
					t.Fatalf("after a stale redelivery tasks %v are in Batch, want [%s]", live, want)
				}
			}
			last := request.TaskID(r, f.cfg.MaxResubmits)
			if tc.lastSucceeds {
				f.succeed(last, f.now(), f.now().Add(time.Second))
			} else {
				f.failTransiently(last)
			}
			f.sweep(t)
			ev := wantAnswer(t, f, "m-a", "c-a", tc.wantStatus)
			if ev.TaskID != last || ev.Attempts.Resubmits != f.cfg.MaxResubmits {
				t.Errorf("answer on task %s after %d resubmissions, want %s after %d", ev.TaskID, ev.Attempts.Resubmits, last, f.cfg.MaxResubmits)
			}
			if !tc.lastSucceeds && (!ev.Failure.Transient || ev.Failure.Code != "NodePreempted") {
				t.Errorf("failure = %+v", ev.Failure)
			}
			if len(f.arrivals.scheduled) != 0 {
				t.Errorf("%d more resubmissions scheduled", len(f.arrivals.scheduled))
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

// TestSweepPoolsRetriesSettling: a failure before a completed task is
// deleted fails the sweep and keeps the task, so the next sweep settles it
// again under the same ids: one answer (or one resubmission) in the end.
func TestSweepPoolsRetriesSettling(t *testing.T) {
	tests := []struct {
		name      string
		transient bool
		inject    func(f *fixture)
		// repeats is how many times the answer may be sent (a failure after
		// the publish repeats it under the same id).
		repeats int
	}{
		{"record write fails", false, func(f *fixture) { f.status.inject(func(s *fakeStatus) { s.failWrites = 1 }) }, 1},
		{"publish fails", false, func(f *fixture) { f.results.failNext = 1 }, 1},
		{"delete fails", false, func(f *fixture) { f.batch.fail["DeleteTask"] = batchErr(500, batch.CodeInternalError) }, 2},
		{"scheduling the resubmission fails", true, func(f *fixture) { f.arrivals.failNext = 1 }, 0},
		{"task listing fails", false, func(f *fixture) { f.batch.fail["ListTasks"] = batchErr(500, batch.CodeInternalError) }, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, nil)
			f.submit(t, message{id: "m-1", body: arrivalJSON("input", "a.mp4", "0x1", `,"correlation":"c-1"`)})
			task := f.entry(t, "input", "a.mp4", "m-1").TaskID
			if tc.transient {
				f.failTransiently(task)
			} else {
				f.succeed(task, f.now(), f.now().Add(time.Second))
			}
			tc.inject(f)
			if _, err := f.app.SweepPools(ctx, timerRequest()); err == nil {
				t.Fatalf("SweepPools succeeded despite the failure")
			}
			if _, ok := f.batch.tasks[task]; !ok {
				t.Fatalf("task deleted although settling failed")
			}
			f.batch.fail = map[string]error{}
			f.clock.advance(time.Minute)
			f.sweep(t)
			if _, ok := f.batch.tasks[task]; ok {
				t.Errorf("task kept after a successful sweep")
			}
			if tc.transient {
				if len(f.arrivals.scheduled) != 1 || *f.arrivals.scheduled[0].msg.MessageID != request.AttemptMessageID("m-1", 1) {
					t.Errorf("scheduled %d resubmissions, want one of attempt 1", len(f.arrivals.scheduled))
				}
				wantNoAnswer(t, f, "m-1")
				return
			}
			wantRepeatedAnswer(t, f, "m-1", "c-1", results.StatusSucceeded, tc.repeats)
		})
	}
}

func TestSweepPoolsEdgeCases(t *testing.T) {
	t.Run("no job yet", func(t *testing.T) {
		f := newFixture(t, nil)
		f.sweep(t)
	})
	t.Run("a task not created by SubmitTasks is left alone", func(t *testing.T) {
		f := newFixture(t, nil)
		f.batch.jobs["ffbatch-job"] = &batch.Job{ID: "ffbatch-job", State: batch.JobStateActive}
		f.batch.tasks["manual"] = &batch.Task{ID: "manual", State: batch.TaskStateCompleted, ExecutionInfo: &batch.TaskExecutionInfo{Result: batch.TaskExecutionResultSuccess}}
		resp := f.sweep(t)
		if _, ok := f.batch.tasks["manual"]; !ok || len(f.results.sent) != 0 || !strings.Contains(strings.Join(resp.Logs, "\n"), "1 skipped") {
			t.Errorf("foreign task: kept %v, %d answers, logs %q", ok, len(f.results.sent), resp.Logs)
		}
	})
	t.Run("results topic down", func(t *testing.T) {
		f := newFixture(t, nil)
		f.submit(t, message{id: "m-1", body: arrivalJSON("input", "a.mp4", "0x1", "")})
		f.succeed(f.entry(t, "input", "a.mp4", "m-1").TaskID, f.now(), f.now())
		f.results.err = errServiceBus
		if _, err := f.app.SweepPools(context.Background(), timerRequest()); !errors.Is(err, errServiceBus) {
			t.Errorf("SweepPools = %v, want the publish failure", err)
		}
	})
}

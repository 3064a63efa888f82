package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/arrival"
	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/config"
	"github.com/ffbatch/ffbatch/internal/lifecycle"
	"github.com/ffbatch/ffbatch/internal/plan"
	"github.com/ffbatch/ffbatch/internal/request"
	"github.com/ffbatch/ffbatch/internal/results"
)

const defaultPreset = "mp3-192k-cbr"

func TestSubmitTasks(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	batchMsgs := []message{
		{id: "m-a", body: arrivalJSON("input", "a.mp4", "0x1", "")},
		{id: "m-ep", body: arrivalJSON("input", "shows/ep 1.MP4", "0x2", `,"preset":"mp3-v2-vbr","correlation":"c-2"`)},
		{id: "m-up", body: arrivalJSON("upstream", "u.mp4", "0x3", "")},
		{id: "m-dot", body: arrivalJSON("input", "../evil.mp4", "0x3", "")},
		{id: "m-json", correlation: "sb-json", body: `not json`},
		{id: "m-other", body: arrivalJSON("other", "x.mp4", "0x4", `,"correlation":"c-other"`)},
		{id: "m-a", body: arrivalJSON("input", "a.mp4", "0x1", "")}, // the same message twice in one batch
	}
	resp := f.submit(t, batchMsgs...)
	if n := len(f.batch.added); n != 3 {
		t.Fatalf("added %d tasks, want 3 (a.mp4, shows/ep 1.MP4, upstream u.mp4)", n)
	}
	rejections := map[string]struct{ corr, reason string }{
		"m-dot":   {"", string(arrival.ReasonDotSegment)},
		"m-json":  {"sb-json", string(arrival.ReasonNotJSON)},
		"m-other": {"c-other", reasonContainerNotAllowed},
	}
	for id, want := range rejections {
		if ev := wantAnswer(t, f, id, want.corr, results.StatusRejected); ev.Rejection.Reason != want.reason {
			t.Errorf("%s: rejection %+v, want reason %s", id, ev.Rejection, want.reason)
		}
	}
	if len(f.results.sent) != len(rejections) {
		t.Errorf("%d result messages, want only the %d rejections", len(f.results.sent), len(rejections))
	}
	if _, err := f.status.Get(ctx, "other", "x.mp4"); !errors.Is(err, lifecycle.ErrNotFound) {
		t.Errorf("a container ffbatch does not serve got a record: %v", err)
	}
	pool := f.batch.pools["ffbatch-pool"]
	if pool == nil || !pool.EnableAutoScale || !strings.Contains(pool.AutoScaleFormula, "$PendingTasks") {
		t.Errorf("pool = %+v", pool)
	}
	if f.batch.jobs["ffbatch-job"] == nil || !f.blobs.containers["output"] {
		t.Errorf("job or output container not created")
	}

	ep := reqFor("m-ep", "input", "shows/ep 1.MP4", "0x2", "mp3-v2-vbr", "shows/ep 1.mp3-v2-vbr.mp3")
	task := f.batch.added[1]
	if task.ID != request.TaskID(ep, 0) {
		t.Errorf("task id %s, want request.TaskID of request m-ep", task.ID)
	}
	if strings.Contains(task.CommandLine, "ep 1") || !strings.Contains(task.CommandLine, "-q:a 2") {
		t.Errorf("command line = %q", task.CommandLine)
	}
	if p := task.OutputFiles[0].Destination.Container.Path; p != plan.StagingName(task.ID) {
		t.Errorf("output path = %q, want the task's staging name %q", p, plan.StagingName(task.ID))
	}
	tf, err := plan.FileOf(&batch.Task{ID: task.ID, EnvironmentSettings: task.EnvironmentSettings})
	if err != nil || tf.ID != "m-ep" || tf.Correlation != "c-2" || tf.Output != ep.Output || !tf.SubmittedAt.Equal(f.now()) {
		t.Errorf("%s = %+v, %v", plan.EnvFile, tf, err)
	}
	if e := f.entry(t, "input", "shows/ep 1.MP4", "m-ep"); e.State != results.StateSubmitted || e.TaskID != task.ID || e.Source != request.SourceMessage {
		t.Errorf("record = %+v", e)
	}
	if e := f.entry(t, "upstream", "u.mp4", "m-up"); e.State != results.StateSubmitted {
		t.Errorf("upstream record = %+v", e)
	}
	if !strings.Contains(strings.Join(resp.Logs, "\n"), "3 added") {
		t.Errorf("logs = %q", resp.Logs)
	}

	// The host redelivers the whole batch: no new task, the same answers.
	f.submit(t, batchMsgs...)
	if n := len(f.batch.added); n != 3 {
		t.Errorf("redelivery added tasks: %d in all", n)
	}
	for id, want := range rejections {
		wantRepeatedAnswer(t, f, id, want.corr, results.StatusRejected, 2)
	}
}

// TestSubmitTasksAdmission: an arrival may name the input container or a
// container in FFBATCH_UPSTREAM_CONTAINERS; any other is rejected with one
// answer under the message's request and correlation, and leaves no record.
func TestSubmitTasksAdmission(t *testing.T) {
	tests := []struct {
		name      string
		upstream  []string
		msg       message
		wantTask  bool
		wantCorr  string
		container string
	}{
		{"input container", []string{"upstream"}, message{id: "m-1", body: arrivalJSON("input", "a.mp4", "0x1", "")}, true, "", "input"},
		{"listed upstream container", []string{"upstream", "more"}, message{id: "m-1", body: arrivalJSON("more", "a.mp4", "0x1", "")}, true, "", "more"},
		{"container not listed", []string{"upstream"}, message{id: "m-1", body: arrivalJSON("elsewhere", "a.mp4", "0x1", `,"correlation":"order-1"`)}, false, "order-1", "elsewhere"},
		{"no upstream containers configured", nil, message{id: "m-1", body: arrivalJSON("upstream", "a.mp4", "0x1", `,"correlation":"order-1"`)}, false, "order-1", "upstream"},
		{"correlation from the message only", []string{"upstream"}, message{id: "m-1", correlation: "sb-1", body: arrivalJSON("elsewhere", "a.mp4", "0x1", "")}, false, "sb-1", "elsewhere"},
		{"the request field names the request", []string{"upstream"}, message{id: "m-1", body: arrivalJSON("elsewhere", "a.mp4", "0x1", `,"request":"req-9"`)}, false, "", "elsewhere"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(c *config.Config) { c.UpstreamContainers = tc.upstream })
			f.submit(t, tc.msg)
			if got := len(f.batch.added) == 1; got != tc.wantTask {
				t.Fatalf("added %d tasks, want task=%v", len(f.batch.added), tc.wantTask)
			}
			if tc.wantTask {
				if e := f.entry(t, tc.container, "a.mp4", tc.msg.id); e.State != results.StateSubmitted {
					t.Errorf("record = %+v", e)
				}
				if len(f.results.sent) != 0 {
					t.Errorf("an accepted arrival was answered at once")
				}
				return
			}
			id := tc.msg.id
			if strings.Contains(tc.msg.body, "req-9") {
				id = "req-9"
			}
			ev := wantAnswer(t, f, id, tc.wantCorr, results.StatusRejected)
			if ev.Rejection.Reason != reasonContainerNotAllowed || ev.Rejection.MessageID != tc.msg.id || !strings.Contains(ev.Rejection.Message, tc.container) {
				t.Errorf("rejection = %+v", ev.Rejection)
			}
			if _, err := f.status.Get(context.Background(), tc.container, "a.mp4"); !errors.Is(err, lifecycle.ErrNotFound) {
				t.Errorf("a rejected container got a record: %v", err)
			}
		})
	}
}

func TestSubmitTasksFailures(t *testing.T) {
	valid := message{id: "m-1", correlation: "c-1", body: arrivalJSON("input", "a.mp4", "0x1", `,"correlation":"c-1"`)}
	taskID := request.TaskID(reqFor("m-1", "input", "a.mp4", "0x1", defaultPreset, "a.mp3"), 0)
	tests := []struct {
		name      string
		inject    func(f *fixture)
		msgs      []message
		wantErr   bool
		wantTasks int
	}{
		{"batch unavailable", func(f *fixture) { f.batch.fail["GetPool"] = batchErr(503, batch.CodeServerBusy) }, nil, true, 0},
		{"pool being deleted", func(f *fixture) {
			f.batch.pools["ffbatch-pool"] = &batch.Pool{ID: "ffbatch-pool", State: batch.PoolStateDeleting}
		}, nil, true, 0},
		{"job terminated by an idle sweep", func(f *fixture) {
			f.batch.jobs["ffbatch-job"] = &batch.Job{ID: "ffbatch-job", State: batch.JobStateCompleted}
		}, nil, true, 0},
		{"add tasks call fails", func(f *fixture) { f.batch.fail["AddTasks"] = batchErr(500, batch.CodeInternalError) }, nil, true, 0},
		{"per-task server error", func(f *fixture) {
			f.batch.addFailures[taskID] = batch.TaskAddFailure{TaskID: taskID, Status: batch.TaskAddStatusServerError, Code: "ServerBusy"}
		}, nil, true, 0},
		{"record write fails", func(f *fixture) { f.status.inject(func(s *fakeStatus) { s.failWrites = 1 }) }, nil, true, 0},
		{"results topic down, nothing to answer", func(f *fixture) { f.results.err = errServiceBus }, nil, false, 1},
		{"results topic down with a rejection", func(f *fixture) { f.results.err = errServiceBus }, []message{valid, {id: "m-bad", body: `{}`}}, true, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			tc.inject(f)
			msgs := tc.msgs
			if msgs == nil {
				msgs = []message{valid}
			}
			_, err := f.app.SubmitTasks(context.Background(), submitRequest(msgs...))
			if (err != nil) != tc.wantErr {
				t.Fatalf("SubmitTasks error = %v, wantErr %v", err, tc.wantErr)
			}
			if n := len(f.batch.added); n != tc.wantTasks {
				t.Errorf("added %d tasks, want %d", n, tc.wantTasks)
			}
			if len(f.results.sent) != 0 {
				t.Errorf("published %d events, want none", len(f.results.sent))
			}
		})
	}
}

// TestSubmitTasksRetryAfterFailure: whatever step fails (including a
// handler killed between the record write and the task add), the
// redelivered batch adds the request's task once, and the request gets
// exactly one answer when it completes.
func TestSubmitTasksRetryAfterFailure(t *testing.T) {
	msg := message{id: "m-1", correlation: "c-1", body: arrivalJSON("input", "a.mp4", "0x1", `,"correlation":"c-1"`)}
	taskID := request.TaskID(reqFor("m-1", "input", "a.mp4", "0x1", defaultPreset, "a.mp3"), 0)
	tests := []struct {
		name string
		// inject makes the first invocation fail; heal undoes it.
		inject, heal func(f *fixture)
		// recorded is whether the failure comes after the record write.
		recorded bool
	}{
		{"killed between the record write and the task add",
			func(f *fixture) { f.batch.fail["AddTasks"] = batchErr(500, batch.CodeInternalError) },
			func(f *fixture) { delete(f.batch.fail, "AddTasks") }, true},
		{"task add had server errors",
			func(f *fixture) {
				f.batch.addFailures[taskID] = batch.TaskAddFailure{TaskID: taskID, Status: batch.TaskAddStatusServerError, Code: "ServerBusy"}
			},
			func(f *fixture) { delete(f.batch.addFailures, taskID) }, true},
		{"pool being deleted",
			func(f *fixture) {
				f.batch.pools["ffbatch-pool"] = &batch.Pool{ID: "ffbatch-pool", State: batch.PoolStateDeleting}
			},
			func(f *fixture) { delete(f.batch.pools, "ffbatch-pool") }, true},
		{"record write fails",
			func(f *fixture) { f.status.inject(func(s *fakeStatus) { s.failWrites = 1 }) },
			func(*fixture) {}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, nil)
			tc.inject(f)
			if _, err := f.app.SubmitTasks(ctx, submitRequest(msg)); err == nil {
				t.Fatalf("SubmitTasks succeeded despite the failure")
			}
			rec, err := f.status.Get(ctx, "input", "a.mp4")
			if recorded := err == nil && rec.Find("m-1") != nil; recorded != tc.recorded {
				t.Fatalf("request recorded = %v before the retry, want %v", recorded, tc.recorded)
			}
			if tc.recorded {
				if e := rec.Find("m-1"); e.State != results.StateSubmitted || e.TaskID != taskID {
					t.Errorf("record before the task exists = %+v, want submitted on %s", e, taskID)
				}
			}
			tc.heal(f)
			f.clock.advance(time.Minute)
			f.submit(t, msg)
			if ids := f.batch.addedIDs(); len(ids) != 1 || ids[0] != taskID {
				t.Fatalf("tasks added %v, want [%s]", ids, taskID)
			}
			f.succeed(taskID, f.now(), f.now().Add(time.Second))
			f.sweep(t)
			f.submit(t, msg) // a late redelivery after the answer
			wantRepeatedAnswer(t, f, "m-1", "c-1", results.StatusSucceeded, 2)
			if n := len(f.batch.addedIDs()); n != 1 {
				t.Errorf("%d tasks in all, want 1", n)
			}
		})
	}
}

func TestSubmitTasksManagedScaling(t *testing.T) {
	f := newFixture(t, func(c *config.Config) { c.Scaling = config.ScalingManaged })
	var msgs []message
	for i := range 3 {
		msgs = append(msgs, message{id: fmt.Sprint("m-", i), body: arrivalJSON("input", fmt.Sprintf("f%d.mp4", i), "0x1", "")})
	}
	f.submit(t, msgs...)
	pool := f.batch.pools["ffbatch-pool"]
	if pool.EnableAutoScale {
		t.Fatalf("managed pool has autoscale on")
	}
	// 3 tasks at 2 slots: 2 nodes, dedicated (max 1) first, then 1 spot.
	if len(f.batch.resizes) != 1 || pool.TargetDedicatedNodes != 1 || pool.TargetLowPriorityNodes != 1 {
		t.Fatalf("resizes = %d, targets %d/%d", len(f.batch.resizes), pool.TargetDedicatedNodes, pool.TargetLowPriorityNodes)
	}
	if f.batch.resizes[0].NodeDeallocationOption != batch.NodeDeallocationOptionTaskCompletion {
		t.Errorf("deallocation = %s", f.batch.resizes[0].NodeDeallocationOption)
	}
}

// TestSubmitTasksRefusedTask: a task Batch refuses (a client error it will
// never accept) is a permanent failure of every request waiting on it,
// each answered once, and a redelivery repeats those answers without a
// task.
func TestSubmitTasksRefusedTask(t *testing.T) {
	r := reqFor("m-1", "input", "a.mp4", "0x1", defaultPreset, "a.mp3")
	taskID := request.TaskID(r, 0)
	msgs := []message{
		{id: "m-1", body: arrivalJSON("input", "a.mp4", "0x1", `,"correlation":"c-1"`)},
		{id: "m-2", body: arrivalJSON("input", "a.mp4", "0x1", `,"correlation":"c-2"`)},
	}
	f := newFixture(t, nil)
	f.batch.addFailures[taskID] = batch.TaskAddFailure{TaskID: taskID, Status: batch.TaskAddStatusClientError, Code: "InvalidPropertyValue", Message: "bad"}
	f.submit(t, msgs...)
	for _, m := range msgs {
		ev := wantAnswer(t, f, m.id, "c"+strings.TrimPrefix(m.id, "m"), results.StatusFailed)
		if ev.Failure.Category != results.CategoryTask || ev.Failure.Transient || ev.Failure.Code != "InvalidPropertyValue" || ev.TaskID != taskID {
			t.Errorf("%s: failure %+v on task %s", m.id, ev.Failure, ev.TaskID)
		}
	}
	delete(f.batch.addFailures, taskID)
	f.submit(t, msgs...)
	if n := len(f.batch.added); n != 0 {
		t.Errorf("a redelivery added %d tasks for answered requests", n)
	}
	for _, m := range msgs {
		wantRepeatedAnswer(t, f, m.id, "c"+strings.TrimPrefix(m.id, "m"), results.StatusFailed, 2)
	}
}

// TestSubmitTasksCorrelationFromMessage: an arrival without a correlation
// in its body takes the message's CorrelationId, which its answer echoes;
// a body correlation wins over it.
func TestSubmitTasksCorrelationFromMessage(t *testing.T) {
	f := newFixture(t, nil)
	f.submit(t,
		message{id: "m-1", correlation: "from-message", body: arrivalJSON("input", "a.mp4", "0x1", "")},
		message{id: "m-2", correlation: "from-message", body: arrivalJSON("input", "b.mp4", "0x1", `,"correlation":"from-body"`)})
	for _, id := range f.batch.addedIDs() {
		f.succeed(id, f.now(), f.now())
	}
	f.sweep(t)
	wantAnswer(t, f, "m-1", "from-message", results.StatusSucceeded)
	wantAnswer(t, f, "m-2", "from-body", results.StatusSucceeded)
}

package handlers

import (
	"context"
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

func TestSweepPoolsIdleCleanup(t *testing.T) {
	f := newFixture(t, nil)
	f.submit(t, message{id: "m-a", body: arrivalJSON("input", "a.mp4", "0x1", "")})
	f.succeed(f.entry(t, "input", "a.mp4", "m-a").TaskID, f.now(), f.now())
	steps := []struct {
		advance           time.Duration
		wantJob, wantPool bool
	}{
		{0, true, true},                // settles the task; the job is empty: the idle timer starts
		{10 * time.Minute, true, true}, // not yet
		{6 * time.Minute, false, false},
		{time.Minute, false, false}, // nothing left: no errors
	}
	for i, st := range steps {
		f.clock.advance(st.advance)
		f.sweep(t)
		_, hasJob := f.batch.jobs["ffbatch-job"]
		_, hasPool := f.batch.pools["ffbatch-pool"]
		if hasJob != st.wantJob || hasPool != st.wantPool {
			t.Errorf("step %d: job %v pool %v, want %v %v", i, hasJob, hasPool, st.wantJob, st.wantPool)
		}
	}
	wantAnswer(t, f, "m-a", "", results.StatusSucceeded)
	// New work re-creates both.
	f.submit(t, message{id: "m-b", body: arrivalJSON("input", "b.mp4", "0x1", "")})
	if f.batch.jobs["ffbatch-job"] == nil || f.batch.pools["ffbatch-pool"] == nil {
		t.Errorf("job or pool not re-created")
	}
}

// TestSweepPoolsRescuesTasksAddedDuringTermination: a SubmitTasks that
// records a request and adds its task after the idle sweep counted none
// is rescued: its arrival is sent again (a distinct message id), the next
// SubmitTasks adds the same task to a new job, and the request is answered
// once.
func TestSweepPoolsRescuesTasksAddedDuringTermination(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(c *config.Config) { c.PoolIdleTimeout = 0 })
	f.batch.jobs["ffbatch-job"] = &batch.Job{ID: "ffbatch-job", State: batch.JobStateActive}
	f.batch.pools["ffbatch-pool"] = &batch.Pool{ID: "ffbatch-pool", State: batch.PoolStateActive}
	f.sweep(t) // marks the job idle

	r := request.Request{ID: "m-late", Version: request.Version{Container: "input", Blob: "late.mp4", ETag: "0x1", Size: 10},
		Preset: defaultPreset, Output: "late.mp3", Correlation: "c-late", Source: request.SourceMessage}
	var taskID string
	f.batch.onTerminate = func() {
		ch, err := f.status.Update(ctx, "input", "late.mp4", func(rec *lifecycle.Record) lifecycle.Change { return rec.Submit(r, f.now()) })
		if err != nil || ch.Task == nil {
			t.Errorf("record the late request: %+v, %v", ch, err)
			return
		}
		preset, _ := plan.LookupPreset(defaultPreset)
		task, err := plan.Task(ch.Task.TaskID, plan.TaskFile{Request: ch.Task.Request, SubmittedAt: f.now()}, preset,
			plan.TaskOptions{InputURL: "https://x/in?sig=s", OutputContainerURL: "https://x/out?sig=s", LogsPrefix: "logs/", MinWallClock: time.Minute})
		if err != nil {
			t.Error(err)
			return
		}
		taskID = task.ID
		f.batch.tasks[task.ID] = &batch.Task{ID: task.ID, State: batch.TaskStateActive, EnvironmentSettings: task.EnvironmentSettings}
	}
	f.sweep(t)
	if f.batch.jobs["ffbatch-job"] != nil || f.batch.pools["ffbatch-pool"] != nil {
		t.Errorf("job or pool not deleted")
	}
	if len(f.arrivals.sent) != 1 {
		t.Fatalf("rescued %d arrivals, want 1", len(f.arrivals.sent))
	}
	m := f.arrivals.sent[0]
	arr, err := arrival.Parse(m.Body)
	if err != nil || arr.Request != "m-late" || arr.Correlation != "c-late" || !strings.HasPrefix(*m.MessageID, "rescue-") || *m.MessageID == arr.MessageID() {
		t.Errorf("rescue message = %+v, %v, id %s", arr, err, *m.MessageID)
	}

	f.forward(t)
	if ids := f.batch.addedIDs(); len(ids) != 1 || ids[0] != taskID {
		t.Fatalf("tasks added after the rescue: %v, want the same task %s", ids, taskID)
	}
	f.succeed(taskID, f.now(), f.now())
	f.sweep(t)
	wantAnswer(t, f, "m-late", "c-late", results.StatusSucceeded)
}

func TestSweepPoolsIdleTimerResetByWork(t *testing.T) {
	f := newFixture(t, nil)
	f.batch.jobs["ffbatch-job"] = &batch.Job{ID: "ffbatch-job", State: batch.JobStateActive}
	f.batch.pools["ffbatch-pool"] = &batch.Pool{ID: "ffbatch-pool", State: batch.PoolStateActive}
	f.sweep(t)
	if _, marked := idleSince(f.batch.jobs["ffbatch-job"]); !marked {
		t.Fatalf("idle mark not set")
	}
	f.submit(t, message{id: "m-a", body: arrivalJSON("input", "a.mp4", "0x1", "")})
	f.clock.advance(time.Hour)
	f.sweep(t)
	if f.batch.jobs["ffbatch-job"] == nil {
		t.Fatalf("job with an active task was deleted")
	}
	if _, marked := idleSince(f.batch.jobs["ffbatch-job"]); marked {
		t.Errorf("idle mark not cleared by new work")
	}
}

func TestSweepPoolsManagedShrink(t *testing.T) {
	f := newFixture(t, func(c *config.Config) { c.Scaling = config.ScalingManaged })
	f.submit(t, message{id: "m-a", body: arrivalJSON("input", "a.mp4", "0x1", "")})
	if p := f.batch.pools["ffbatch-pool"]; p.TargetDedicatedNodes != 1 {
		t.Fatalf("pool not grown: %+v", p)
	}
	f.succeed(f.entry(t, "input", "a.mp4", "m-a").TaskID, f.now(), f.now())
	f.sweep(t)
	if p := f.batch.pools["ffbatch-pool"]; p.TargetDedicatedNodes != 0 || p.TargetLowPriorityNodes != 0 {
		t.Errorf("pool not shrunk: %+v", p)
	}
}

// TestSweepPoolsRecreatesDeletedPool: tasks waiting in a job whose pool was
// deleted get the pool back from the next sweep.
func TestSweepPoolsRecreatesDeletedPool(t *testing.T) {
	f := newFixture(t, nil)
	f.submit(t, message{id: "m-a", body: arrivalJSON("input", "a.mp4", "0x1", "")})
	delete(f.batch.pools, f.cfg.PoolID)
	f.sweep(t)
	if _, ok := f.batch.pools[f.cfg.PoolID]; !ok {
		t.Fatal("pool not re-created for the pending task")
	}
	// Without pending tasks a missing pool stays missing.
	f.batch.tasks = map[string]*batch.Task{}
	delete(f.batch.pools, f.cfg.PoolID)
	f.sweep(t)
	if _, ok := f.batch.pools[f.cfg.PoolID]; ok {
		t.Error("pool re-created without pending tasks")
	}
}

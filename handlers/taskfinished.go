package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/customhandler"
	"github.com/ffbatch/ffbatch/internal/plan"
)

// taskLogName is the task log whose upload announces a finished task.
// Batch uploads stdout.txt and stderr.txt together when the task ends;
// one of them is enough, and the Event Grid subscription delivers only
// this one.
const taskLogName = "stderr.txt"

// finishWait bounds how long TaskFinished waits for Batch to report a task
// completed after its logs appeared: Batch uploads output files before it
// moves the task to completed.
const finishWait = time.Minute

// finishPoll is how often TaskFinished asks Batch in the meantime.
const finishPoll = 100 * time.Millisecond

// TaskFinished handles an Event Grid BlobCreated event for a task's log
// upload (FFBATCH_LOGS_PREFIX<task id>/stderr.txt in the output
// container) and settles that task at once, as SweepPools would at its
// next run: completion is event-driven, and SweepPools remains the safety
// net for any event missed. It answers 2xx for every event it decides to
// leave (not a task log, the task already settled and deleted, not
// completed within finishWait), and fails only when settling failed, so
// Event Grid retries; settling is idempotent.
func (a *App) TaskFinished(ctx context.Context, req *customhandler.InvokeRequest) (*customhandler.InvokeResponse, error) {
	resp := &customhandler.InvokeResponse{}
	defer a.flushActivity(ctx)
	ev, err := req.EventGrid(bindingEvent)
	if err != nil {
		a.log.Error("task finished: undecodable event ignored", "err", err)
		resp.Logf("ignored: undecodable event: %v", err)
		return resp, nil
	}
	taskID, why := a.finishedTaskID(ev)
	if why != "" {
		a.log.Debug("task finished: event ignored", "reason", why, "subject", ev.Subject)
		resp.Logf("ignored event %s: %s", ev.ID, why)
		return resp, nil
	}
	t, err := a.completedTask(ctx, taskID)
	if err != nil {
		return nil, err
	}
	if t == nil {
		resp.Logf("task %s: nothing to settle (already settled, or not completed within %s; SweepPools will)", taskID, finishWait)
		return resp, nil
	}
	outcome, err := a.settle(ctx, t)
	if err != nil {
		return nil, err
	}
	resp.Logf("task %s settled: %s", taskID, outcome)
	return resp, nil
}

// finishedTaskID is the task whose log an event announces, or why the
// event is not one.
func (a *App) finishedTaskID(ev customhandler.EventGridEvent) (string, string) {
	if ev.EventType != blobCreatedType {
		return "", "event type " + ev.EventType
	}
	container, blob, ok := parseSubject(ev.Subject)
	switch {
	case !ok:
		return "", "subject is not a blob path"
	case container != a.cfg.OutputContainer:
		return "", "container " + container + " is not the output container"
	}
	rest, ok := strings.CutPrefix(blob, plan.LogsPath(a.cfg.LogsPrefix, ""))
	if !ok {
		return "", "not under the logs prefix"
	}
	taskID, name, ok := strings.Cut(rest, "/")
	if !ok || name != taskLogName || taskID == "" {
		return "", "not a task's " + taskLogName
	}
	return taskID, ""
}

// completedTask waits (at most finishWait) until Batch reports the task
// completed and returns it; nil when the task or job no longer exists (a
// sweep or an earlier event settled it) or it did not complete in time.
func (a *App) completedTask(ctx context.Context, taskID string) (*batch.Task, error) {
	ctx, cancel := context.WithTimeout(ctx, finishWait)
	defer cancel()
	for {
		t, err := a.d.Batch.GetTask(ctx, a.cfg.JobID, taskID, &batch.GetOptions{Select: sweepListSelect})
		switch {
		case batch.HasCode(err, batch.CodeTaskNotFound), batch.HasCode(err, batch.CodeJobNotFound):
			return nil, nil
		case errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil:
			return nil, nil
		case err != nil:
			return nil, fmt.Errorf("task finished: get task %s: %w", taskID, err)
		case t.State == batch.TaskStateCompleted:
			return t, nil
		}
		select {
		case <-ctx.Done():
			return nil, nil
		case <-time.After(finishPoll):
		}
	}
}

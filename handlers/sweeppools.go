package handlers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"

	"github.com/ffbatch/ffbatch/internal/arrival"
	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/config"
	"github.com/ffbatch/ffbatch/internal/customhandler"
	"github.com/ffbatch/ffbatch/internal/plan"
	"github.com/ffbatch/ffbatch/internal/results"
)

// sweepListSelect asks only for what classification and reporting need.
const sweepListSelect = "id,state,creationTime,stateTransitionTime,executionInfo,environmentSettings"

// sweepWorkers bounds how many completed tasks one sweep settles at once
// (each is a publish, a status write and a delete).
const sweepWorkers = 8

// maxSweepTasks bounds one sweep's work so it finishes well within the
// function timeout; the next run continues.
const maxSweepTasks = 5000

// idleMetadata is the job metadata item in which SweepPools remembers
// since when the job has had no tasks (RFC 3339), so idleness survives
// across runs of a stateless function.
const idleMetadata = "ffbatch-idle-since"

// SweepPools runs on the timer. Each step is idempotent, so overlapping
// runs and runs racing SubmitTasks are safe: result and resubmission
// messages carry stable ids (duplicates are dropped or harmless), deleting
// a task twice is a no-op, and idle cleanup re-checks for tasks after
// terminating the job and rescues any that slipped in.
func (a *App) SweepPools(ctx context.Context, req *customhandler.InvokeRequest) (*customhandler.InvokeResponse, error) {
	resp := &customhandler.InvokeResponse{}
	if ti, err := req.Timer(bindingTimer); err == nil && ti.IsPastDue {
		resp.Log("timer is past due")
	}
	st, err := a.sweepCompleted(ctx)
	if err != nil {
		return nil, err
	}
	resp.Logf("sweep: %d succeeded, %d failed, %d resubmitted, %d skipped", st.succeeded, st.failed, st.resubmitted, st.skipped)
	lost, err := a.sweepOrphans(ctx)
	if err != nil {
		return nil, err
	}
	if lost.checked > 0 {
		resp.Logf("lost tasks: %d in-flight files checked, %d resubmitted, %d failed", lost.checked, lost.resubmitted, lost.failed)
	}
	msg, err := a.sweepIdle(ctx)
	if err != nil {
		return nil, err
	}
	if msg != "" {
		resp.Log(msg)
	}
	return resp, nil
}

type sweepStats struct{ succeeded, failed, resubmitted, skipped int }

func (a *App) sweepCompleted(ctx context.Context) (sweepStats, error) {
	var st sweepStats
	pager := a.d.Batch.NewListTasksPager(a.cfg.JobID, &batch.ListOptions{Filter: "state eq 'completed'", Select: sweepListSelect})
	seen := 0
	for pager.More() && seen < maxSweepTasks {
		page, err := pager.NextPage(ctx)
		if batch.HasCode(err, batch.CodeJobNotFound) {
			return st, nil
		}
		if err != nil {
			return st, fmt.Errorf("list completed tasks of job %s: %w", a.cfg.JobID, err)
		}
		n := min(len(page.Value), maxSweepTasks-seen)
		seen += n
		var mu sync.Mutex // guards st
		err = forEach(n, sweepWorkers, func(i int) error {
			outcome, err := a.settle(ctx, &page.Value[i])
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			switch outcome {
			case results.OutcomeSuccess:
				st.succeeded++
			case results.OutcomePermanent:
				st.failed++
			case results.OutcomeTransient:
				st.resubmitted++
			default:
				st.skipped++
			}
			return nil
		})
		if err != nil {
			return st, err
		}
	}
	return st, nil
}

// settle reports one completed task and deletes it. It returns the outcome
// acted on ("" when the task was skipped).
func (a *App) settle(ctx context.Context, t *batch.Task) (results.Outcome, error) {
	f, err := plan.FileOf(t)
	if err != nil {
		a.log.Warn("sweep: task not created by SubmitTasks left alone", "task_id", t.ID, "err", err)
		return "", nil
	}
	c := results.Classify(t)
	log := a.log.With("task_id", t.ID, "container", f.Container, "blob", f.Blob)
	switch {
	case c.Outcome == results.OutcomeSuccess:
		err = a.reportSuccess(ctx, t, f)
	case c.Outcome == results.OutcomeTransient && f.Resubmit < a.cfg.MaxResubmits:
		err = a.resubmit(ctx, f)
		if err == nil || errors.Is(err, errStatusNotRecorded) {
			log.Info("sweep: resubmitted after transient failure", "code", c.Code, "resubmit", f.Resubmit+1)
		}
	default:
		err = a.reportFailure(ctx, t, f, c)
		if err == nil || errors.Is(err, errStatusNotRecorded) {
			log.Info("sweep: file failed", "code", c.Code, "category", c.Category)
		}
		c.Outcome = results.OutcomePermanent
	}
	if errors.Is(err, errStatusNotRecorded) {
		// Deleting the task now would leave a submitted document without
		// a task, which the lost-task sweep would resubmit. Keep it; the
		// next sweep reports it again under the same ids.
		log.Warn("sweep: status not recorded; task kept for the next sweep", "err", err)
		return c.Outcome, nil
	}
	if err != nil {
		return "", err
	}
	if err := a.d.Batch.DeleteTask(ctx, a.cfg.JobID, t.ID); err != nil && !batch.HasCode(err, batch.CodeTaskNotFound) {
		return "", fmt.Errorf("delete task %s: %w", t.ID, err)
	}
	return c.Outcome, nil
}

func execTimes(t *batch.Task) (started, finished time.Time, retries, requeues int32) {
	if ei := t.ExecutionInfo; ei != nil {
		return ei.StartTime, ei.EndTime, ei.RetryCount, ei.RequeueCount
	}
	return time.Time{}, t.StateTransitionTime, 0, 0
}

// reportSuccess publishes the success and records it; a failed record is
// an errStatusNotRecorded.
func (a *App) reportSuccess(ctx context.Context, t *batch.Task, f plan.File) error {
	started, finished, retries, requeues := execTimes(t)
	out := a.outputRef(f.Output)
	ev := &results.Event{
		Schema: results.SchemaVersion, ID: resultID(f), Status: results.StatusSucceeded, Time: a.now().UTC(),
		File: fileRef(f), TaskID: t.ID, Output: out, Logs: a.logsURL(t.ID),
		Timings:  results.NewTimings(f.SubmittedAt, started, finished),
		Attempts: &results.Attempts{Retries: retries, Requeues: requeues, Resubmits: f.Resubmit},
	}
	if err := a.publish(ctx, ev); err != nil {
		return err
	}
	return a.putStatusErr(ctx, results.FileStatus{Container: f.Container, Blob: f.Blob, ETag: f.ETag, State: results.StateSucceeded,
		TaskID: t.ID, Preset: f.Preset, Resubmits: f.Resubmit, Output: out, Content: fileContent(f),
		SubmittedAt: f.SubmittedAt, StartedAt: started, FinishedAt: finished})
}

// reportFailure publishes the failure and records it; a failed record is
// an errStatusNotRecorded.
func (a *App) reportFailure(ctx context.Context, t *batch.Task, f plan.File, c results.Classification) error {
	started, finished, retries, requeues := execTimes(t)
	fail := &results.Failure{
		Category: c.Category, Transient: c.Outcome == results.OutcomeTransient, Code: c.Code,
		BatchCategory: c.BatchCategory, Message: c.Message, ExitCode: c.ExitCode,
		Stderr: a.stderrExcerpt(ctx, t.ID),
	}
	ev := &results.Event{
		Schema: results.SchemaVersion, ID: resultID(f), Status: results.StatusFailed, Time: a.now().UTC(),
		File: fileRef(f), TaskID: t.ID, Logs: a.logsURL(t.ID), Failure: fail,
		Timings:  results.NewTimings(f.SubmittedAt, started, finished),
		Attempts: &results.Attempts{Retries: retries, Requeues: requeues, Resubmits: f.Resubmit},
	}
	if err := a.publish(ctx, ev); err != nil {
		return err
	}
	return a.putStatusErr(ctx, results.FileStatus{Container: f.Container, Blob: f.Blob, ETag: f.ETag, State: results.StateFailed,
		TaskID: t.ID, Preset: f.Preset, Resubmits: f.Resubmit, Failure: fail, Content: fileContent(f),
		SubmittedAt: f.SubmittedAt, StartedAt: started, FinishedAt: finished})
}

// resubmit schedules the file's arrival again after a backoff. The new
// message id (…-r<n>) escapes duplicate detection; its task id differs
// from the completed one's, so it never collides with it.
// A failed status write after the message was scheduled is an
// errStatusNotRecorded.
func (a *App) resubmit(ctx context.Context, f plan.File) error {
	arr := arrival.Arrival{Container: f.Container, Blob: f.Blob, ETag: f.ETag, Size: f.Size, Preset: f.Preset,
		Output: f.Output, Correlation: f.Correlation, Resubmit: f.Resubmit + 1, ContentMD5: f.ContentMD5}
	msg, err := arrivalMessage(arr)
	if err != nil {
		return err
	}
	at := a.now().Add(backoff(a.cfg.ResubmitBackoff, arr.Resubmit))
	if _, err := a.d.Arrivals.ScheduleMessages(ctx, []*azservicebus.Message{msg}, at, nil); err != nil {
		return fmt.Errorf("schedule resubmission of %s/%s: %w", f.Container, f.Blob, err)
	}
	return a.putStatusErr(ctx, results.FileStatus{Container: f.Container, Blob: f.Blob, ETag: f.ETag, State: results.StateQueued,
		Preset: f.Preset, Resubmits: arr.Resubmit, Content: fileContent(f), QueuedAt: a.now().UTC()})
}

// stderrExcerpt reads the end of the task's uploaded stderr.txt; "" if it
// is missing or unreadable (the failure is still reported).
func (a *App) stderrExcerpt(ctx context.Context, taskID string) string {
	name := plan.LogsPath(a.cfg.LogsPrefix, taskID) + "/stderr.txt"
	resp, err := a.d.Blobs.DownloadStream(ctx, a.cfg.OutputContainer, name, &azblob.DownloadStreamOptions{
		Range: blob.HTTPRange{Offset: 0, Count: 64 << 10},
	})
	if err != nil {
		a.log.Debug("sweep: no stderr", "task_id", taskID, "err", err)
		return ""
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return ""
	}
	return results.StderrExcerpt(b)
}

// sweepIdle shrinks a managed pool with no pending tasks to its minimum
// and removes the job and pool once they have been idle for longer than
// the idle timeout. It returns a line for the invocation log.
func (a *App) sweepIdle(ctx context.Context) (string, error) {
	job, err := a.d.Batch.GetJob(ctx, a.cfg.JobID, &batch.GetOptions{Select: "id,state,metadata"})
	if batch.HasCode(err, batch.CodeJobNotFound) {
		return a.deleteIdlePool(ctx)
	}
	if err != nil {
		return "", fmt.Errorf("get job %s: %w", a.cfg.JobID, err)
	}
	if job.State == batch.JobStateCompleted {
		return a.deleteJobAndPool(ctx)
	}
	if job.State != batch.JobStateActive {
		return "", nil // terminating or deleting: a concurrent sweep is on it
	}
	counts, err := a.d.Batch.GetTaskCounts(ctx, a.cfg.JobID)
	if err != nil {
		return "", fmt.Errorf("task counts of job %s: %w", a.cfg.JobID, err)
	}
	tc := counts.TaskCounts
	pending := int(tc.Active + tc.Running)
	if pending > 0 {
		// Tasks wait for a pool that someone deleted (the job keeps only
		// its id): create it again, or they would wait forever.
		if _, err := a.ensurePool(ctx); err != nil {
			a.log.Warn("sweep: pool for pending tasks not available", "pool_id", a.cfg.PoolID, "err", err)
		}
	}
	a.sizeManagedPool(ctx, pending)
	since, marked := idleSince(job)
	if pending+int(tc.Completed) > 0 {
		if marked {
			if err := a.setIdleSince(ctx, job, time.Time{}); err != nil {
				return "", err
			}
		}
		return "", nil
	}
	now := a.now()
	if !marked {
		return "job idle: timer started", a.setIdleSince(ctx, job, now)
	}
	if now.Sub(since) < a.cfg.PoolIdleTimeout {
		return "", nil
	}
	// Idle long enough. Terminate first so SubmitTasks cannot add to it,
	// then rescue anything that slipped in between the count and the
	// termination.
	if err := a.d.Batch.TerminateJob(ctx, a.cfg.JobID, "ffbatch idle timeout"); err != nil &&
		!batch.HasCode(err, batch.CodeJobCompleted) && !batch.HasCode(err, batch.CodeJobBeingTerminated) && !batch.HasCode(err, batch.CodeJobNotFound) {
		return "", fmt.Errorf("terminate idle job %s: %w", a.cfg.JobID, err)
	}
	if err := a.rescue(ctx); err != nil {
		return "", err
	}
	return a.deleteJobAndPool(ctx)
}

func idleSince(j *batch.Job) (time.Time, bool) {
	for _, m := range j.Metadata {
		if m.Name == idleMetadata {
			t, err := time.Parse(time.RFC3339Nano, m.Value)
			return t, err == nil
		}
	}
	return time.Time{}, false
}

// setIdleSince writes (or, for a zero t, removes) the idle mark, keeping
// the job's other metadata.
func (a *App) setIdleSince(ctx context.Context, j *batch.Job, t time.Time) error {
	md := []batch.MetadataItem{}
	for _, m := range j.Metadata {
		if m.Name != idleMetadata {
			md = append(md, m)
		}
	}
	if !t.IsZero() {
		md = append(md, batch.MetadataItem{Name: idleMetadata, Value: t.UTC().Format(time.RFC3339Nano)})
	}
	if err := a.d.Batch.PatchJob(ctx, j.ID, batch.JobPatchParameter{Metadata: md}); err != nil && !batch.HasCode(err, batch.CodeJobNotFound) {
		return fmt.Errorf("mark job %s idle: %w", j.ID, err)
	}
	return nil
}

// rescue re-sends the arrivals of tasks that are still active or running
// in a terminated job (they would never run), with a distinct message id.
func (a *App) rescue(ctx context.Context) error {
	pager := a.d.Batch.NewListTasksPager(a.cfg.JobID, &batch.ListOptions{Filter: "state ne 'completed'", Select: "id,state,environmentSettings"})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if batch.HasCode(err, batch.CodeJobNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("list unfinished tasks of job %s: %w", a.cfg.JobID, err)
		}
		for i := range page.Value {
			f, err := plan.FileOf(&page.Value[i])
			if err != nil {
				continue
			}
			arr := arrival.Arrival{Container: f.Container, Blob: f.Blob, ETag: f.ETag, Size: f.Size, Preset: f.Preset,
				Output: f.Output, Correlation: f.Correlation, Resubmit: f.Resubmit, ContentMD5: f.ContentMD5}
			msg, err := arrivalMessage(arr)
			if err != nil {
				return err
			}
			msg.MessageID = to.Ptr(arr.MessageID() + "-rescued")
			if err := a.d.Arrivals.SendMessage(ctx, msg, nil); err != nil {
				return fmt.Errorf("rescue %s/%s: %w", f.Container, f.Blob, err)
			}
			a.log.Warn("sweep: rescued a task added while the job was being terminated", "task_id", page.Value[i].ID)
		}
	}
	return nil
}

func (a *App) deleteJobAndPool(ctx context.Context) (string, error) {
	if err := a.d.Batch.DeleteJob(ctx, a.cfg.JobID); err != nil && !batch.HasCode(err, batch.CodeJobNotFound) && !batch.HasCode(err, batch.CodeJobBeingDeleted) {
		return "", fmt.Errorf("delete idle job %s: %w", a.cfg.JobID, err)
	}
	if err := a.d.Batch.DeletePool(ctx, a.cfg.PoolID); err != nil && !batch.HasCode(err, batch.CodePoolNotFound) && !batch.HasCode(err, batch.CodePoolBeingDeleted) {
		return "", fmt.Errorf("delete idle pool %s: %w", a.cfg.PoolID, err)
	}
	a.log.Info("sweep: idle job and pool deleted", "job_id", a.cfg.JobID, "pool_id", a.cfg.PoolID)
	return "idle job and pool deleted", nil
}

// deleteIdlePool removes a pool that has no job at all (the job was
// deleted by an earlier sweep that stopped before the pool).
func (a *App) deleteIdlePool(ctx context.Context) (string, error) {
	err := a.d.Batch.DeletePool(ctx, a.cfg.PoolID)
	switch {
	case err == nil:
		return "pool without job deleted", nil
	case batch.HasCode(err, batch.CodePoolNotFound), batch.HasCode(err, batch.CodePoolBeingDeleted):
		return "", nil
	}
	return "", fmt.Errorf("delete pool %s: %w", a.cfg.PoolID, err)
}

// sizeManagedPool shrinks a managed pool to its minimum when nothing is
// pending, and grows it when tasks wait. Best effort.
func (a *App) sizeManagedPool(ctx context.Context, pending int) {
	if a.cfg.Scaling != config.ScalingManaged {
		return
	}
	p, err := a.d.Batch.GetPool(ctx, a.cfg.PoolID, &batch.GetOptions{Select: poolSelect})
	if err != nil || p.EnableAutoScale || p.AllocationState != batch.PoolAllocationStateSteady {
		return
	}
	d, s := plan.ManagedTargets(a.poolOptions(), pending)
	if d == int(p.TargetDedicatedNodes) && s == int(p.TargetLowPriorityNodes) {
		return
	}
	if err := a.resize(ctx, d, s); err != nil && !errors.Is(err, context.Canceled) {
		a.log.Warn("managed pool: resize failed", "err", err)
		return
	}
	a.log.Info("managed pool: resized", "dedicated", d, "spot", s, "pending", pending)
}

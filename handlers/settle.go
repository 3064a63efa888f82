package handlers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"

	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/lifecycle"
	"github.com/ffbatch/ffbatch/internal/plan"
	"github.com/ffbatch/ffbatch/internal/results"
)

// sweepListSelect asks only for what classification and reporting need.
const sweepListSelect = "id,state,creationTime,stateTransitionTime,executionInfo,environmentSettings"

// sweepWorkers bounds how many completed tasks one sweep settles at once
// (each is a status update, its messages and a delete).
const sweepWorkers = 8

// maxSweepTasks bounds one sweep's work so it finishes well within the
// function timeout; the next run continues.
const maxSweepTasks = 5000

type sweepStats struct{ succeeded, failed, resubmitted, skipped int }

// sweepCompleted settles the job's completed tasks, at most maxSweepTasks
// and none once the run's budget is spent; the next run settles the rest.
func (a *App) sweepCompleted(ctx context.Context, b budget) (sweepStats, error) {
	var st sweepStats
	pager := a.d.Batch.NewListTasksPager(a.cfg.JobID, &batch.ListOptions{Filter: "state eq 'completed'", Select: sweepListSelect})
	seen := 0
	for pager.More() && seen < maxSweepTasks && !b.spent() {
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
			if b.spent() {
				return nil // left completed, for the next run
			}
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

// settle records how one completed task ended for the requests waiting
// on it (lifecycle.Record.Settle; a success only once its MP3 is confirmed
// and promoted, confirmedResult), schedules the resubmission or publishes
// the answers, and then deletes the task's staged MP3 and the task. It returns the outcome acted on
// ("" when the task was not created by SubmitTasks). A failure before the
// delete keeps the task, so the next sweep settles it again under the same
// ids.
func (a *App) settle(ctx context.Context, t *batch.Task) (results.Outcome, error) {
	f, err := plan.FileOf(t)
	if err != nil {
		a.log.Warn("sweep: task not created by SubmitTasks left alone", "task_id", t.ID, "err", err)
		return "", nil
	}
	res, err := a.confirmedResult(ctx, t, f)
	if err != nil {
		return "", fmt.Errorf("settle task %s: %w", t.ID, err)
	}
	now := a.now().UTC()
	ch, err := a.updateStatus(ctx, f.Container, f.Blob, func(rec *lifecycle.Record) lifecycle.Change {
		return rec.Settle(t.ID, f.Request, res, a.cfg.MaxResubmits, now)
	})
	if err != nil {
		return "", fmt.Errorf("settle task %s: %w", t.ID, err)
	}
	if err := a.carryOut(ctx, ch); err != nil {
		return "", fmt.Errorf("settle task %s: %w", t.ID, err)
	}
	if err := a.discard(ctx, t.ID); err != nil {
		return "", fmt.Errorf("settle task %s: %w", t.ID, err)
	}
	a.log.Info("sweep: task settled", "task_id", t.ID, "container", f.Container, "blob", f.Blob, "outcome", res.Outcome,
		"answers", len(ch.Events), "resubmitted", len(ch.Resubmit))
	if err := a.d.Batch.DeleteTask(ctx, a.cfg.JobID, t.ID); err != nil && !batch.HasCode(err, batch.CodeTaskNotFound) {
		return "", fmt.Errorf("delete task %s: %w", t.ID, err)
	}
	if len(ch.Resubmit) > 0 {
		return results.OutcomeTransient, nil
	}
	if res.Outcome == results.OutcomeSuccess {
		return results.OutcomeSuccess, nil
	}
	return results.OutcomePermanent, nil
}

// confirmedResult is how t ended (taskResult), with a success confirmed
// and its MP3 promoted to the output (confirmOutput) unless the record
// shows the task settled already: settling it again only repeats the
// recorded answers.
func (a *App) confirmedResult(ctx context.Context, t *batch.Task, f plan.TaskFile) (lifecycle.TaskResult, error) {
	res := a.taskResult(ctx, t, f)
	if res.Outcome != results.OutcomeSuccess {
		return res, nil
	}
	rec, err := a.d.Status.Get(ctx, f.Container, f.Blob)
	if err != nil && !errors.Is(err, lifecycle.ErrNotFound) {
		return res, err
	}
	if rec != nil && rec.Settled(t.ID, f.Request) {
		return res, nil
	}
	return a.confirmOutput(ctx, t, f, res)
}

// taskResult is how t ended as Batch reports it: its output (with, when
// ffmpeg's log tells it, the audio's duration) on success, else the
// failure with the end of its stderr.
func (a *App) taskResult(ctx context.Context, t *batch.Task, f plan.TaskFile) lifecycle.TaskResult {
	c := results.Classify(t)
	res := lifecycle.TaskResult{Outcome: c.Outcome, Logs: a.logsURL(t.ID), FinishedAt: t.StateTransitionTime}
	if ei := t.ExecutionInfo; ei != nil {
		res.StartedAt, res.FinishedAt, res.Retries, res.Requeues = ei.StartTime, ei.EndTime, ei.RetryCount, ei.RequeueCount
	}
	stderr := a.readLog(ctx, t.ID, taskLogName, maxStderrRead)
	if c.Outcome == results.OutcomeSuccess {
		res.MP3 = a.outputRef(f.Output)
		if d, ok := results.DurationFromLog(stderr); ok {
			res.AudioMillis = d.Milliseconds()
		}
		res.Audio, _ = results.AudioFromLog(stderr)
		return res
	}
	res.Failure = &results.Failure{
		Category: c.Category, Transient: c.Outcome == results.OutcomeTransient, Code: c.Code,
		BatchCategory: c.BatchCategory, Message: c.Message, ExitCode: c.ExitCode,
		Stderr: results.StderrExcerpt(stderr),
	}
	return res
}

// maxStderrRead bounds the part of a task's stderr.txt that is read.
const maxStderrRead = 64 << 10

// readLog reads the start (at most limit bytes) of one of the task's
// uploaded logs (stderr.txt, stdout.txt); nil if it is missing or
// unreadable (the outcome is still recorded).
func (a *App) readLog(ctx context.Context, taskID, name string, limit int64) []byte {
	blobName := plan.LogsPath(a.cfg.LogsPrefix, taskID) + "/" + name
	resp, err := a.d.Blobs.DownloadStream(ctx, a.cfg.OutputContainer, blobName, &azblob.DownloadStreamOptions{
		Range: blob.HTTPRange{Offset: 0, Count: limit},
	})
	if err != nil {
		a.log.Debug("sweep: no task log", "task_id", taskID, "log", name, "err", err)
		return nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return nil
	}
	return b
}

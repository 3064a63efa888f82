package handlers

import (
	"context"
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

// settle records how one completed task ended for the requests waiting
// on it (lifecycle.Record.Settle), schedules the resubmission or publishes
// the answers, and then deletes the task. It returns the outcome acted on
// ("" when the task was not created by SubmitTasks). A failure before the
// delete keeps the task, so the next sweep settles it again under the same
// ids.
func (a *App) settle(ctx context.Context, t *batch.Task) (results.Outcome, error) {
	f, err := plan.FileOf(t)
	if err != nil {
		a.log.Warn("sweep: task not created by SubmitTasks left alone", "task_id", t.ID, "err", err)
		return "", nil
	}
	res := a.taskResult(ctx, t, f)
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

// taskResult is how t ended: its output (with the MP3's size and, when
// ffmpeg's log tells it, duration) on success, else the failure with the
// end of its stderr.
func (a *App) taskResult(ctx context.Context, t *batch.Task, f plan.TaskFile) lifecycle.TaskResult {
	c := results.Classify(t)
	res := lifecycle.TaskResult{Outcome: c.Outcome, Logs: a.logsURL(t.ID), FinishedAt: t.StateTransitionTime}
	if ei := t.ExecutionInfo; ei != nil {
		res.StartedAt, res.FinishedAt, res.Retries, res.Requeues = ei.StartTime, ei.EndTime, ei.RetryCount, ei.RequeueCount
	}
	stderr := a.readStderr(ctx, t.ID)
	if c.Outcome == results.OutcomeSuccess {
		res.MP3 = a.outputRef(f.Output)
		res.MP3Size = a.outputSize(ctx, f.Output)
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

// readStderr reads the start of the task's uploaded stderr.txt; nil if it
// is missing or unreadable (the outcome is still recorded).
func (a *App) readStderr(ctx context.Context, taskID string) []byte {
	name := plan.LogsPath(a.cfg.LogsPrefix, taskID) + "/stderr.txt"
	resp, err := a.d.Blobs.DownloadStream(ctx, a.cfg.OutputContainer, name, &azblob.DownloadStreamOptions{
		Range: blob.HTTPRange{Offset: 0, Count: maxStderrRead},
	})
	if err != nil {
		a.log.Debug("sweep: no stderr", "task_id", taskID, "err", err)
		return nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxStderrRead))
	if err != nil {
		return nil
	}
	return b
}

// outputSize is the MP3's length in bytes; 0 when it cannot be read.
func (a *App) outputSize(ctx context.Context, output string) int64 {
	p, err := a.d.Blobs.GetProperties(ctx, a.cfg.OutputContainer, output)
	if err != nil || p.ContentLength == nil {
		a.log.Debug("sweep: no output size", "output", output, "err", err)
		return 0
	}
	return *p.ContentLength
}

package handlers

import (
	"context"
	"fmt"

	"github.com/ffbatch/ffbatch/internal/arrival"
	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/customhandler"
	"github.com/ffbatch/ffbatch/internal/plan"
	"github.com/ffbatch/ffbatch/internal/results"
)

// planned is one valid arrival turned into a task.
type planned struct {
	arr  arrival.Arrival
	file plan.File
	task batch.TaskAddParameter
}

// SubmitTasks handles a batch of arrival messages. Invalid messages become
// rejected result events and never block the valid ones. A transient
// failure (Batch, Storage or Service Bus unavailable, the pool or job being
// removed by an idle sweep, a task the service could not add after its
// retries) fails the invocation so the whole batch is redelivered; task ids
// derived from each file make that safe.
func (a *App) SubmitTasks(ctx context.Context, req *customhandler.InvokeRequest) (*customhandler.InvokeResponse, error) {
	resp := &customhandler.InvokeResponse{}
	msgs, err := req.ServiceBusBatch(bindingArrivals, customhandler.BodyString)
	if err != nil {
		return nil, fmt.Errorf("submit tasks: %w", err)
	}
	var valid []arrival.Arrival
	var rejected []*results.Event
	for _, m := range msgs {
		arr, perr := arrival.Parse(m.Body)
		if perr == nil && arr.Container != a.cfg.InputContainer {
			perr = &rejectError{reason: "container_not_allowed", msg: fmt.Sprintf("invalid arrival: container: %q is not the input container", arr.Container)}
		}
		if perr != nil {
			a.log.Warn("submit tasks: arrival rejected", "message_id", m.MessageID, "err", perr)
			rejected = append(rejected, a.rejectionEvent(m.MessageID, m.Body, perr))
			continue
		}
		valid = append(valid, arr)
	}
	for _, ev := range rejected {
		if err := a.publish(ctx, ev); err != nil {
			return nil, err
		}
	}
	resp.Logf("%d messages: %d valid, %d rejected", len(msgs), len(valid), len(rejected))
	if len(valid) == 0 {
		return resp, nil
	}

	tasks, err := a.planTasks(ctx, valid)
	if err != nil {
		return nil, err
	}
	// Before any pool work: identical content already done or in flight
	// needs neither a pool nor a task.
	tasks, skipped, err := a.claimAll(ctx, tasks)
	if err != nil {
		return nil, fmt.Errorf("submit tasks: %w", err)
	}
	if skipped > 0 {
		resp.Logf("%d arrivals skipped: identical content already transcoded or in flight", skipped)
	}
	if len(tasks) == 0 {
		return resp, nil
	}
	pool, err := a.ensurePool(ctx)
	if err != nil {
		return nil, err
	}
	if err := a.ensureJob(ctx); err != nil {
		return nil, err
	}
	if err := a.out.ensure(ctx, a.d.Blobs, a.cfg.OutputContainer); err != nil {
		return nil, err
	}
	params := make([]batch.TaskAddParameter, len(tasks))
	for i, t := range tasks {
		params[i] = t.task
	}
	res, err := a.d.Batch.AddTasks(ctx, a.cfg.JobID, params, a.opts.AddTasks)
	if err != nil {
		return nil, fmt.Errorf("add %d tasks to job %s: %w", len(params), a.cfg.JobID, err)
	}
	failed := map[string]batch.TaskAddFailure{}
	for _, f := range res.Failed {
		failed[f.TaskID] = f
	}
	var transient []batch.TaskAddFailure
	var submitted []results.FileStatus
	for _, t := range tasks {
		f, bad := failed[t.task.ID]
		switch {
		case !bad && fileContent(t.file) != nil:
			// Its claim (claimAll) already recorded "submitted".
		case !bad:
			submitted = append(submitted, submittedStatus(t))
		case f.Status == batch.TaskAddStatusServerError:
			transient = append(transient, f)
		default:
			// The service refused the task definition: retrying cannot help.
			if err := a.reportAddFailure(ctx, t, f); err != nil {
				return nil, err
			}
		}
	}
	a.enqueueStatuses(submitted)
	a.growManagedPool(ctx, pool)
	resp.Logf("tasks: %d added, %d already present, %d refused, %d server errors", len(res.Added), len(res.Existing), len(res.Failed)-len(transient), len(transient))
	if len(transient) > 0 {
		return nil, fmt.Errorf("add tasks: %d tasks still had server errors after retries (first: %s): %w", len(transient), transient[0], errNotReady)
	}
	return resp, nil
}

// planTasks builds one task per arrival, dropping repeats of the same task
// id within the batch.
func (a *App) planTasks(ctx context.Context, arrs []arrival.Arrival) ([]planned, error) {
	seen := map[string]bool{}
	out := make([]planned, 0, len(arrs))
	outURL, err := a.d.Signer.WriteContainerURL(ctx, a.cfg.OutputContainer, a.cfg.SASLifetime)
	if err != nil {
		return nil, err
	}
	now := a.now().UTC()
	for _, arr := range arrs {
		presetName, output := a.target(arr)
		preset, ok := plan.LookupPreset(presetName)
		if !ok {
			return nil, fmt.Errorf("plan %s/%s: %w %q", arr.Container, arr.Blob, plan.ErrUnknownPreset, presetName)
		}
		f := plan.File{Container: arr.Container, Blob: arr.Blob, ETag: arr.ETag, Size: arr.Size, Preset: preset.Name,
			Output: output, Correlation: arr.Correlation, Resubmit: arr.Resubmit, ContentMD5: arr.ContentMD5, SubmittedAt: now}
		id := plan.TaskID(f.Container, f.Blob, f.ETag, f.Preset, f.Resubmit)
		if seen[id] {
			continue
		}
		seen[id] = true
		inURL, err := a.d.Signer.ReadBlobURL(ctx, arr.Container, arr.Blob, a.cfg.SASLifetime)
		if err != nil {
			return nil, err
		}
		task, err := plan.Task(f, preset, plan.TaskOptions{
			InputURL: inURL, OutputContainerURL: outURL, LogsPrefix: a.cfg.LogsPrefix,
			MaxTaskRetries: a.cfg.MaxTaskRetries, MinWallClock: a.cfg.MinWallClock, WallClockPerGiB: a.cfg.WallClockPerGiB,
			ContainerImage: a.cfg.ContainerImage,
		})
		if err != nil {
			return nil, err
		}
		out = append(out, planned{arr: arr, file: f, task: task})
	}
	return out, nil
}

// reportAddFailure publishes a failed result for a task Batch refused.
func (a *App) reportAddFailure(ctx context.Context, t planned, f batch.TaskAddFailure) error {
	a.log.Error("submit tasks: task refused", "task_id", f.TaskID, "code", f.Code, "message", f.Message)
	fail := &results.Failure{Category: results.CategoryTask, Code: f.Code, BatchCategory: string(f.Status), Message: f.Message}
	ev := &results.Event{
		Schema: results.SchemaVersion, ID: resultID(t.file), Status: results.StatusFailed, Time: a.now().UTC(),
		File: fileRef(t.file), TaskID: t.task.ID, Failure: fail, Attempts: &results.Attempts{Resubmits: t.file.Resubmit},
	}
	if err := a.publish(ctx, ev); err != nil {
		return err
	}
	a.putStatus(ctx, results.FileStatus{Container: t.file.Container, Blob: t.file.Blob, ETag: t.file.ETag, State: results.StateFailed,
		TaskID: t.task.ID, Preset: t.file.Preset, Resubmits: t.file.Resubmit, Failure: fail, Content: fileContent(t.file), FinishedAt: a.now().UTC()})
	return nil
}

func fileRef(f plan.File) *results.File {
	return &results.File{Container: f.Container, Blob: f.Blob, ETag: f.ETag, Size: f.Size, Preset: f.Preset, Correlation: f.Correlation, ContentMD5: f.ContentMD5}
}

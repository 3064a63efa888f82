package handlers

import (
	"context"
	"fmt"
	"time"

	"github.com/ffbatch/ffbatch/internal/arrival"
	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/customhandler"
	"github.com/ffbatch/ffbatch/internal/lifecycle"
	"github.com/ffbatch/ffbatch/internal/plan"
	"github.com/ffbatch/ffbatch/internal/request"
	"github.com/ffbatch/ffbatch/internal/results"
)

// SubmitTasks handles a batch of arrival messages, each one request.
// Invalid messages, and messages naming a container ffbatch does not
// serve, are answered "rejected" and never block the others. Each valid
// request is recorded (lifecycle.Record.Submit): answered at once when the
// same work is done, sharing a task in flight, or owning a new task, which
// is then added to Batch. A transient failure (Batch, Storage or Service
// Bus unavailable, the pool or job being removed by an idle sweep, a task
// the service could not add after its retries) fails the invocation so the
// whole batch is redelivered; the records make that the same requests.
func (a *App) SubmitTasks(ctx context.Context, req *customhandler.InvokeRequest) (*customhandler.InvokeResponse, error) {
	resp := &customhandler.InvokeResponse{}
	defer a.flushActivity(ctx)
	msgs, err := req.ServiceBusBatch(bindingArrivals, customhandler.BodyString)
	if err != nil {
		return nil, fmt.Errorf("submit tasks: %w", err)
	}
	var reqs []request.Request
	var answers []*results.Event
	for _, m := range msgs {
		r, rej := a.admit(m)
		if rej != nil {
			answers = append(answers, rej)
			continue
		}
		reqs = append(reqs, r)
	}
	changes, err := a.recordAll(ctx, reqs)
	if err != nil {
		return nil, err
	}
	var owners []*lifecycle.Entry
	seen := map[string]bool{}
	for _, ch := range changes {
		answers = append(answers, ch.Events...)
		if ch.Task != nil && !seen[ch.Task.TaskID] {
			seen[ch.Task.TaskID] = true
			owners = append(owners, ch.Task)
		}
	}
	resp.Logf("%d messages: %d requests, %d answered now, %d tasks to add", len(msgs), len(reqs), len(answers), len(owners))
	if len(owners) > 0 {
		refused, err := a.addTasks(ctx, resp, owners)
		if err != nil {
			return nil, err
		}
		answers = append(answers, refused...)
	}
	if err := a.publishAll(ctx, answers); err != nil {
		return nil, err
	}
	return resp, nil
}

// admit turns a message into a request, or into the rejected answer of a
// message that is invalid or names a container that is neither the input
// container nor an upstream container. Such messages leave no record: the
// request is not one ffbatch can file under an input it serves.
func (a *App) admit(m customhandler.ServiceBusMessage) (request.Request, *results.Event) {
	arr, err := arrival.Parse(m.Body)
	if err == nil && arr.Correlation == "" && m.CorrelationID != "" {
		// The message's CorrelationId stands in for a body without one,
		// when it passes the same checks.
		withID := arr
		withID.Correlation = m.CorrelationID
		if withID.Validate() == nil {
			arr = withID
		}
	}
	var rej *results.Rejection
	switch {
	case err != nil:
		rej = rejectionOf(err, m.MessageID, m.Body)
	case !a.cfg.AllowedSourceContainer(arr.Container):
		rej = &results.Rejection{Reason: reasonContainerNotAllowed, MessageID: m.MessageID, Body: results.Excerpt(string(m.Body), 512),
			Message: fmt.Sprintf("invalid arrival: container: %q is neither the input container nor an upstream container (FFBATCH_UPSTREAM_CONTAINERS)", arr.Container)}
	default:
		return a.resolve(arr, m.MessageID, request.SourceMessage), nil
	}
	a.log.Warn("submit tasks: arrival rejected", "message_id", m.MessageID, "reason", rej.Reason, "err", rej.Message)
	correlation := m.CorrelationID
	if err == nil && arr.Correlation != "" {
		correlation = arr.Correlation
	}
	id := m.MessageID
	if err == nil {
		id = arr.RequestID(m.MessageID)
	}
	return request.Request{}, lifecycle.MessageRejection(id, correlation, m.Body, rej, a.now())
}

// recordAll records every request: the requests of one input blob in
// order, different blobs concurrently (at most statusWorkers at once). It
// returns one Change per request, in order.
func (a *App) recordAll(ctx context.Context, reqs []request.Request) ([]lifecycle.Change, error) {
	byFile := map[string][]int{}
	var files []string
	for i, r := range reqs {
		k := request.FileKey(r.Container, r.Blob)
		if _, ok := byFile[k]; !ok {
			files = append(files, k)
		}
		byFile[k] = append(byFile[k], i)
	}
	changes := make([]lifecycle.Change, len(reqs))
	err := forEach(len(files), statusWorkers, func(g int) error {
		for _, i := range byFile[files[g]] {
			ch, err := a.record(ctx, reqs[i])
			if err != nil {
				return fmt.Errorf("submit tasks: %w", err)
			}
			changes[i] = ch
		}
		return nil
	})
	return changes, err
}

// record records the request (lifecycle.Record.Submit). Its output is
// claimed when its MP3 is promoted (confirmOutput), not here, so recording
// is the one storage call per arrival: a request whose output another
// input or preset owns is answered "rejected" (output_taken) at settle.
func (a *App) record(ctx context.Context, r request.Request) (lifecycle.Change, error) {
	now := a.now().UTC()
	return a.updateStatus(ctx, r.Container, r.Blob, func(rec *lifecycle.Record) lifecycle.Change {
		return rec.Submit(r, now)
	})
}

// addTasks adds the tasks of the requests that own one, creating the pool,
// job and output container as needed. It returns the answers of the tasks
// Batch refused (a definition it will never accept) and fails on
// transient errors.
func (a *App) addTasks(ctx context.Context, resp *customhandler.InvokeResponse, owners []*lifecycle.Entry) ([]*results.Event, error) {
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
	params, err := a.planTasks(ctx, owners)
	if err != nil {
		return nil, err
	}
	res, err := a.d.Batch.AddTasks(ctx, a.cfg.JobID, params, a.opts.AddTasks)
	if err != nil {
		return nil, fmt.Errorf("add %d tasks to job %s: %w", len(params), a.cfg.JobID, err)
	}
	byID := map[string]*lifecycle.Entry{}
	for _, e := range owners {
		byID[e.TaskID] = e
	}
	var transient []batch.TaskAddFailure
	var answers []*results.Event
	for _, f := range res.Failed {
		if f.Status == batch.TaskAddStatusServerError {
			transient = append(transient, f)
			continue
		}
		evs, err := a.refuseTask(ctx, byID[f.TaskID], f)
		if err != nil {
			return nil, err
		}
		answers = append(answers, evs...)
	}
	a.growManagedPool(ctx, pool)
	resp.Logf("tasks: %d added, %d already present, %d refused, %d server errors", len(res.Added), len(res.Existing), len(res.Failed)-len(transient), len(transient))
	if len(transient) > 0 {
		return nil, fmt.Errorf("add tasks: %d tasks still had server errors after retries (first: %s): %w", len(transient), transient[0], errNotReady)
	}
	return answers, nil
}

// planTasks builds the Batch task of each owning request. Each task's URLs
// must outlive all of its attempts (plan.URLLifetime); the output
// container's URL is shared by the batch, so it must outlive the longest.
func (a *App) planTasks(ctx context.Context, owners []*lifecycle.Entry) ([]batch.TaskAddParameter, error) {
	limits := plan.TaskOptions{LogsPrefix: a.cfg.LogsPrefix,
		MaxTaskRetries: a.cfg.MaxTaskRetries, MinWallClock: a.cfg.MinWallClock, WallClockPerGiB: a.cfg.WallClockPerGiB,
		ContainerImage: a.cfg.ContainerImage,
	}
	var longest time.Duration
	for _, e := range owners {
		longest = max(longest, plan.URLLifetime(e.Size, a.cfg.SASQueueing, limits))
	}
	outURL, err := a.d.Signer.WriteContainerURL(ctx, a.cfg.OutputContainer, longest)
	if err != nil {
		return nil, err
	}
	params := make([]batch.TaskAddParameter, 0, len(owners))
	for _, e := range owners {
		preset, ok := plan.LookupPreset(e.Preset)
		if !ok {
			return nil, fmt.Errorf("plan %s/%s: %w %q", e.Container, e.Blob, plan.ErrUnknownPreset, e.Preset)
		}
		inURL, err := a.d.Signer.ReadBlobURL(ctx, e.Container, e.Blob, plan.URLLifetime(e.Size, a.cfg.SASQueueing, limits))
		if err != nil {
			return nil, err
		}
		o := limits
		o.InputURL, o.OutputContainerURL = inURL, outURL
		task, err := plan.Task(e.TaskID, plan.TaskFile{Request: e.Request, SubmittedAt: e.SubmittedAt}, preset, o)
		if err != nil {
			return nil, err
		}
		params = append(params, task)
	}
	return params, nil
}

// refuseTask records a task Batch refused as a permanent failure of the
// requests waiting on it and returns their answers.
func (a *App) refuseTask(ctx context.Context, e *lifecycle.Entry, f batch.TaskAddFailure) ([]*results.Event, error) {
	a.log.Error("submit tasks: task refused", "task_id", f.TaskID, "code", f.Code, "message", f.Message)
	if e == nil {
		return nil, fmt.Errorf("submit tasks: Batch refused task %s, which was not in the request", f.TaskID)
	}
	res := lifecycle.TaskResult{Outcome: results.OutcomePermanent,
		Failure: &results.Failure{Category: results.CategoryTask, Code: f.Code, BatchCategory: string(f.Status), Message: f.Message}}
	owner, now := e.Request, a.now().UTC()
	ch, err := a.updateStatus(ctx, owner.Container, owner.Blob, func(rec *lifecycle.Record) lifecycle.Change {
		return rec.Settle(f.TaskID, owner, res, a.cfg.MaxResubmits, now)
	})
	return ch.Events, err
}

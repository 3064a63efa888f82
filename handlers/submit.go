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
// serve, are answered "rejected" and never block the others. The valid
// requests are written as one journal (lifecycle.Journal: one blob per
// invocation, named for its requests, so a redelivery rewrites it) and
// their tasks added to Batch: each request's work is the task
// request.TaskID, the same for identical requests, so Batch keeps one
// task for identical work (AddTasks treats TaskExists as success). The
// journal is folded into the requests' status records in the background
// (fold.go), and SweepPools folds any journal left behind. A transient
// failure (Batch, Storage or Service Bus unavailable, the pool or job
// being removed by an idle sweep, a task the service could not add after
// its retries) fails the invocation so the whole batch is redelivered;
// the task ids make that the same tasks.
func (a *App) SubmitTasks(ctx context.Context, req *customhandler.InvokeRequest) (*customhandler.InvokeResponse, error) {
	resp := &customhandler.InvokeResponse{}
	defer a.flushActivity(ctx)
	msgs, err := req.ServiceBusBatch(bindingArrivals, customhandler.BodyString)
	if err != nil {
		return nil, fmt.Errorf("submit tasks: %w", err)
	}
	st := newStages()
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
	st.done("admit")
	if len(reqs) > 0 {
		refused, err := a.journalAndAdd(ctx, resp, st, reqs)
		if err != nil {
			return nil, err
		}
		answers = append(answers, refused...)
	}
	if err := a.publishAll(ctx, answers); err != nil {
		return nil, err
	}
	st.done("answers")
	resp.Logf("%d messages: %d requests journalled, %d answered now; stages: %s", len(msgs), len(reqs), len(answers), st)
	return resp, nil
}

// journalAndAdd writes the journal of reqs, starts its fold and adds the
// requests' tasks; it returns the answers of the tasks Batch refused.
func (a *App) journalAndAdd(ctx context.Context, resp *customhandler.InvokeResponse, st *stages, reqs []request.Request) ([]*results.Event, error) {
	j := &lifecycle.Journal{Name: lifecycle.JournalName(reqs), AcceptedAt: a.now().UTC(), Requests: reqs}
	if err := a.d.Status.WriteJournal(ctx, j); err != nil {
		return nil, fmt.Errorf("submit tasks: %w", err)
	}
	st.done("journal")
	added := make(chan struct{})
	defer close(added)
	folded := a.foldLater(ctx, j, added)
	refused, err := a.addTasks(ctx, resp, distinctTasks(reqs), j.AcceptedAt, folded)
	st.done("tasks")
	return refused, err
}

// distinctTasks returns, for each distinct task id of reqs
// (request.TaskID), the first request it is planned for.
func distinctTasks(reqs []request.Request) []request.Request {
	seen := map[string]bool{}
	var out []request.Request
	for _, r := range reqs {
		if id := request.TaskID(r, r.Attempt); !seen[id] {
			seen[id] = true
			out = append(out, r)
		}
	}
	return out
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

// addTasks adds the task of each request (request.TaskID), accepted at
// submitted, creating the pool, job and output container as needed. A
// refused task is recorded once folded is closed (the journal's fold has
// recorded the requests waiting on it). It returns the answers of the tasks
// Batch refused (a definition it will never accept) and fails on
// transient errors.
func (a *App) addTasks(ctx context.Context, resp *customhandler.InvokeResponse, reqs []request.Request, submitted time.Time, folded <-chan struct{}) ([]*results.Event, error) {
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
	params, err := a.planTasks(ctx, reqs, submitted)
	if err != nil {
		return nil, err
	}
	res, err := a.d.Batch.AddTasks(ctx, a.cfg.JobID, params, a.opts.AddTasks)
	if err != nil {
		return nil, fmt.Errorf("add %d tasks to job %s: %w", len(params), a.cfg.JobID, err)
	}
	byID := map[string]request.Request{}
	for _, r := range reqs {
		byID[request.TaskID(r, r.Attempt)] = r
	}
	var transient []batch.TaskAddFailure
	var answers []*results.Event
	for _, f := range res.Failed {
		if f.Status == batch.TaskAddStatusServerError {
			transient = append(transient, f)
			continue
		}
		select {
		case <-folded:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		r, ok := byID[f.TaskID]
		if !ok {
			return nil, fmt.Errorf("submit tasks: Batch refused task %s, which was not in the request", f.TaskID)
		}
		evs, err := a.refuseTask(ctx, r, f)
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

// planTasks builds the Batch task of each request, submitted at submitted. Each task's URLs
// must outlive all of its attempts (plan.URLLifetime); the output
// container's URL is shared by the batch, so it must outlive the longest.
func (a *App) planTasks(ctx context.Context, reqs []request.Request, submitted time.Time) ([]batch.TaskAddParameter, error) {
	limits := plan.TaskOptions{LogsPrefix: a.cfg.LogsPrefix,
		MaxTaskRetries: a.cfg.MaxTaskRetries, MinWallClock: a.cfg.MinWallClock, WallClockPerGiB: a.cfg.WallClockPerGiB,
		ContainerImage: a.cfg.ContainerImage,
	}
	var longest time.Duration
	for _, r := range reqs {
		longest = max(longest, plan.URLLifetime(r.Size, a.cfg.SASQueueing, limits))
	}
	outURL, err := a.d.Signer.WriteContainerURL(ctx, a.cfg.OutputContainer, longest)
	if err != nil {
		return nil, err
	}
	params := make([]batch.TaskAddParameter, 0, len(reqs))
	for _, r := range reqs {
		preset, ok := plan.LookupPreset(r.Preset)
		if !ok {
			return nil, fmt.Errorf("plan %s/%s: %w %q", r.Container, r.Blob, plan.ErrUnknownPreset, r.Preset)
		}
		inURL, err := a.d.Signer.ReadBlobURL(ctx, r.Container, r.Blob, plan.URLLifetime(r.Size, a.cfg.SASQueueing, limits))
		if err != nil {
			return nil, err
		}
		o := limits
		o.InputURL, o.OutputContainerURL = inURL, outURL
		task, err := plan.Task(request.TaskID(r, r.Attempt), plan.TaskFile{Request: r, SubmittedAt: submitted}, preset, o)
		if err != nil {
			return nil, err
		}
		params = append(params, task)
	}
	return params, nil
}

// refuseTask records a task Batch refused as a permanent failure of the
// requests waiting on it (r is the request it was planned for) and
// returns their answers.
func (a *App) refuseTask(ctx context.Context, r request.Request, f batch.TaskAddFailure) ([]*results.Event, error) {
	a.log.Error("submit tasks: task refused", "task_id", f.TaskID, "code", f.Code, "message", f.Message)
	res := lifecycle.TaskResult{Outcome: results.OutcomePermanent,
		Failure: &results.Failure{Category: results.CategoryTask, Code: f.Code, BatchCategory: string(f.Status), Message: f.Message}}
	now := a.now().UTC()
	ch, err := a.updateStatus(ctx, r.Container, r.Blob, func(rec *lifecycle.Record) lifecycle.Change {
		return rec.Settle(f.TaskID, r, res, a.cfg.MaxResubmits, now)
	})
	return ch.Events, err
}

package handlers

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/customhandler"
	"github.com/ffbatch/ffbatch/internal/lifecycle"
	"github.com/ffbatch/ffbatch/internal/request"
	"github.com/ffbatch/ffbatch/internal/results"
	"github.com/ffbatch/ffbatch/internal/statusapi"
)

// fileView is the Status answer for one file: its current (latest)
// request, flattened, so "state" is the file's state, and every request
// the record keeps, oldest first.
type fileView struct {
	lifecycle.Entry
	Requests  []lifecycle.Entry `json:"requests"`
	UpdatedAt time.Time         `json:"updatedAt"`
}

type errorView struct {
	Error string `json:"error"`
}

// Status answers GET /api/status?blob=<name>[&container=<c>] with the
// file's state and history; without blob, with the Status page
// (internal/statusapi: a page of rows selected by container, prefix,
// state, limit and marker, the last hour's activity, the pool, the tasks
// and the queue; docs/status-api.md). Batch being unreachable degrades
// the answer instead of failing it.
func (a *App) Status(ctx context.Context, req *customhandler.InvokeRequest) (*customhandler.InvokeResponse, error) {
	resp := &customhandler.InvokeResponse{}
	hr, ok, err := httpGet(req, resp)
	if !ok {
		return resp, err
	}
	blob := hr.Query["blob"]
	if blob == "" {
		return resp, a.statusPage(ctx, resp, hr.Query)
	}
	container := hr.Query["container"]
	if container == "" {
		container = a.cfg.InputContainer
	}
	rec, err := a.d.Status.Get(ctx, container, blob)
	if errors.Is(err, lifecycle.ErrNotFound) {
		rec, err = &lifecycle.Record{Container: container, Blob: blob}, nil
	}
	if err != nil {
		return nil, err
	}
	a.addJournalled(ctx, rec)
	if rec.Current() == nil {
		return resp, resp.SetHTTP(bindingResponse, http.StatusNotFound, errorView{"no status for " + container + "/" + blob})
	}
	v := fileView{Entry: *rec.Current(), Requests: rec.Requests, UpdatedAt: rec.UpdatedAt}
	a.refineFromTask(ctx, &v)
	return resp, resp.SetHTTP(bindingResponse, http.StatusOK, v)
}

// statusPage answers the Status page for the query parameters: 400 for
// an invalid query.
func (a *App) statusPage(ctx context.Context, resp *customhandler.InvokeResponse, params map[string]string) error {
	q, err := statusapi.ParseQuery(params, a.status.Containers())
	if err != nil {
		return resp.SetHTTP(bindingResponse, http.StatusBadRequest, errorView{err.Error()})
	}
	return resp.SetHTTP(bindingResponse, http.StatusOK, a.status.Build(ctx, q))
}

// refineFromTask reports "running" (with the start time) for submitted
// requests whose task has started: one Get Task per distinct task. Best
// effort.
func (a *App) refineFromTask(ctx context.Context, v *fileView) {
	type live struct {
		state   results.State
		started time.Time
	}
	tasks := map[string]*live{}
	refine := func(e *lifecycle.Entry) {
		if e.State != results.StateSubmitted || e.TaskID == "" {
			return
		}
		l, ok := tasks[e.TaskID]
		if !ok {
			l = &live{}
			tasks[e.TaskID] = l
			if t, err := a.d.Batch.GetTask(ctx, a.cfg.JobID, e.TaskID, &batch.GetOptions{Select: "id,state,executionInfo"}); err == nil {
				l.state, _ = results.StateForTask(t.State)
				if t.ExecutionInfo != nil {
					l.started = t.ExecutionInfo.StartTime
				}
			}
		}
		if l.state != "" {
			e.State, e.StartedAt = l.state, l.started
		}
	}
	refine(&v.Entry)
	for i := range v.Requests {
		refine(&v.Requests[i])
	}
}

// httpGet decodes an HTTP trigger's request. ok is false when the
// invocation is answered already: with an error (an undecodable request),
// or with 405 written to resp for a method other than GET.
func httpGet(req *customhandler.InvokeRequest, resp *customhandler.InvokeResponse) (customhandler.HTTPRequest, bool, error) {
	hr, err := req.HTTP(bindingRequest)
	if err != nil {
		return hr, false, err
	}
	if hr.Method != http.MethodGet {
		return hr, false, resp.SetHTTP(bindingResponse, http.StatusMethodNotAllowed, errorView{"only GET is supported"})
	}
	return hr, true, nil
}

// maxStatusJournals bounds the journals the Status answer for one file
// reads; normally there are none (a journal lives until its fold, a few
// milliseconds).
const maxStatusJournals = 20

// addJournalled adds to rec, for the Status answer only, the requests for
// its file that a journal holds and the record does not show yet (their
// fold is pending), as submitted on their task. Best effort: a journal
// that cannot be read is left out.
func (a *App) addJournalled(ctx context.Context, rec *lifecycle.Record) {
	names, err := a.d.Status.ListJournals(ctx, a.now().Add(time.Hour), maxStatusJournals)
	if err != nil {
		a.log.Debug("status: journals not listed", "err", err)
		return
	}
	for _, name := range names {
		j, err := a.d.Status.ReadJournal(ctx, name)
		if err != nil {
			continue
		}
		for _, r := range j.Requests {
			if r.Container == rec.Container && r.Blob == rec.Blob && rec.Find(r.ID) == nil {
				rec.Requests = append(rec.Requests, lifecycle.Entry{Request: r, State: results.StateSubmitted,
					TaskID: request.TaskID(r, r.Attempt), QueuedAt: j.AcceptedAt, SubmittedAt: j.AcceptedAt})
			}
		}
	}
}

package handlers

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/customhandler"
	"github.com/ffbatch/ffbatch/internal/lifecycle"
	"github.com/ffbatch/ffbatch/internal/results"
)

// summaryLimit bounds the records a summary counts.
const summaryLimit = 10000

// fileView is the Status answer for one file: its current (latest)
// request, flattened, so "state" is the file's state, and every request
// the record keeps, oldest first.
type fileView struct {
	lifecycle.Entry
	Requests  []lifecycle.Entry `json:"requests"`
	UpdatedAt time.Time         `json:"updatedAt"`
}

// summaryView is the Status answer without ?blob=.
type summaryView struct {
	Files lifecycle.Summary `json:"files"`
	Pool  *poolView         `json:"pool,omitempty"`
	Tasks *batch.TaskCounts `json:"tasks,omitempty"`
}

type poolView struct {
	ID              string `json:"id"`
	State           string `json:"state"`
	AllocationState string `json:"allocationState"`
	Autoscale       bool   `json:"autoscale"`
	Dedicated       int32  `json:"dedicatedNodes"`
	Spot            int32  `json:"spotNodes"`
}

type errorView struct {
	Error string `json:"error"`
}

// Status answers GET /api/status?blob=<name>[&container=<c>] with the
// file's state, or a summary of all files, the pool and the task counts
// without blob. Batch being unreachable degrades the answer instead of
// failing it.
func (a *App) Status(ctx context.Context, req *customhandler.InvokeRequest) (*customhandler.InvokeResponse, error) {
	resp := &customhandler.InvokeResponse{}
	hr, err := req.HTTP(bindingRequest)
	if err != nil {
		return nil, err
	}
	if hr.Method != http.MethodGet {
		return resp, resp.SetHTTP(bindingResponse, http.StatusMethodNotAllowed, errorView{"only GET is supported"})
	}
	blob := hr.Query["blob"]
	if blob == "" {
		return resp, resp.SetHTTP(bindingResponse, http.StatusOK, a.summary(ctx))
	}
	container := hr.Query["container"]
	if container == "" {
		container = a.cfg.InputContainer
	}
	rec, err := a.d.Status.Get(ctx, container, blob)
	if errors.Is(err, lifecycle.ErrNotFound) || err == nil && rec.Current() == nil {
		return resp, resp.SetHTTP(bindingResponse, http.StatusNotFound, errorView{"no status for " + container + "/" + blob})
	}
	if err != nil {
		return nil, err
	}
	v := fileView{Entry: *rec.Current(), Requests: rec.Requests, UpdatedAt: rec.UpdatedAt}
	a.refineFromTask(ctx, &v)
	return resp, resp.SetHTTP(bindingResponse, http.StatusOK, v)
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

func (a *App) summary(ctx context.Context) summaryView {
	var v summaryView
	sum, err := a.d.Status.Summarize(ctx, summaryLimit)
	if err != nil {
		a.log.Warn("status summary failed", "err", err)
	}
	v.Files = sum
	if p, err := a.d.Batch.GetPool(ctx, a.cfg.PoolID, &batch.GetOptions{Select: poolSelect}); err == nil {
		v.Pool = &poolView{ID: p.ID, State: string(p.State), AllocationState: string(p.AllocationState), Autoscale: p.EnableAutoScale,
			Dedicated: p.CurrentDedicatedNodes, Spot: p.CurrentLowPriorityNodes}
	}
	if c, err := a.d.Batch.GetTaskCounts(ctx, a.cfg.JobID); err == nil {
		v.Tasks = &c.TaskCounts
	}
	return v
}

package handlers

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/customhandler"
	"github.com/ffbatch/ffbatch/internal/results"
)

// summaryLimit bounds the documents a summary counts.
const summaryLimit = 10000

// fileStatusView is the Status answer for one file.
type fileStatusView struct {
	Container   string             `json:"container"`
	Blob        string             `json:"blob"`
	ETag        string             `json:"etag"`
	State       results.State      `json:"state"`
	TaskID      string             `json:"taskId,omitempty"`
	Preset      string             `json:"preset,omitempty"`
	Resubmits   int                `json:"resubmits"`
	Output      *results.Output    `json:"output,omitempty"`
	Failure     *results.Failure   `json:"failure,omitempty"`
	Rejection   *results.Rejection `json:"rejection,omitempty"`
	QueuedAt    *time.Time         `json:"queuedAt,omitempty"`
	SubmittedAt *time.Time         `json:"submittedAt,omitempty"`
	StartedAt   *time.Time         `json:"startedAt,omitempty"`
	FinishedAt  *time.Time         `json:"finishedAt,omitempty"`
	UpdatedAt   time.Time          `json:"updatedAt"`
}

// summaryView is the Status answer without ?blob=.
type summaryView struct {
	Files results.Summary   `json:"files"`
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
	st, err := a.d.Status.Get(ctx, container, blob)
	if errors.Is(err, results.ErrNotFound) {
		return resp, resp.SetHTTP(bindingResponse, http.StatusNotFound, errorView{"no status for " + container + "/" + blob})
	}
	if err != nil {
		return nil, err
	}
	if st.State == results.StateSubmitted && st.TaskID != "" {
		a.refineFromTask(ctx, st)
	}
	return resp, resp.SetHTTP(bindingResponse, http.StatusOK, view(st))
}

// refineFromTask reports "running" (with the start time) for a submitted
// file whose task has started. Best effort.
func (a *App) refineFromTask(ctx context.Context, st *results.FileStatus) {
	t, err := a.d.Batch.GetTask(ctx, a.cfg.JobID, st.TaskID, &batch.GetOptions{Select: "id,state,executionInfo"})
	if err != nil {
		return
	}
	if state, ok := results.StateForTask(t.State); ok {
		st.State = state
	}
	if t.ExecutionInfo != nil && !t.ExecutionInfo.StartTime.IsZero() {
		st.StartedAt = t.ExecutionInfo.StartTime
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

func view(st *results.FileStatus) fileStatusView {
	opt := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		return &t
	}
	return fileStatusView{
		Container: st.Container, Blob: st.Blob, ETag: st.ETag, State: st.State, TaskID: st.TaskID, Preset: st.Preset,
		Resubmits: st.Resubmits, Output: st.Output, Failure: st.Failure, Rejection: st.Rejection,
		QueuedAt: opt(st.QueuedAt), SubmittedAt: opt(st.SubmittedAt), StartedAt: opt(st.StartedAt), FinishedAt: opt(st.FinishedAt),
		UpdatedAt: st.UpdatedAt,
	}
}

package batch

import (
	"context"
	"fmt"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// CreateJob adds a job (POST /jobs). An existing id fails with
// CodeJobExists.
func (c *Client) CreateJob(ctx context.Context, job JobAddParameter) error {
	if err := checkID("job", job.ID); err != nil {
		return fmt.Errorf("create job: %w", err)
	}
	if _, err := c.send(ctx, http.MethodPost, "/jobs", nil, job, nil, http.StatusCreated); err != nil {
		return fmt.Errorf("create job %s: %w", job.ID, err)
	}
	return nil
}

// GetJob returns one job.
func (c *Client) GetJob(ctx context.Context, jobID string, opts *GetOptions) (*Job, error) {
	if err := checkID("job", jobID); err != nil {
		return nil, fmt.Errorf("get job: %w", err)
	}
	var j Job
	if _, err := c.send(ctx, http.MethodGet, "/jobs/"+escape(jobID), opts.query(), nil, &j, http.StatusOK); err != nil {
		return nil, fmt.Errorf("get job %s: %w", jobID, err)
	}
	return &j, nil
}

// NewListJobsPager lists the account's jobs.
func (c *Client) NewListJobsPager(opts *ListOptions) *runtime.Pager[ListPage[Job]] {
	return newListPager[Job](c, "list jobs", "/jobs", opts, true, nil)
}

// DeleteJob starts deleting a job and all its tasks.
func (c *Client) DeleteJob(ctx context.Context, jobID string) error {
	if err := checkID("job", jobID); err != nil {
		return fmt.Errorf("delete job: %w", err)
	}
	if _, err := c.send(ctx, http.MethodDelete, "/jobs/"+escape(jobID), nil, nil, nil, http.StatusAccepted); err != nil {
		return fmt.Errorf("delete job %s: %w", jobID, err)
	}
	return nil
}

// TerminateJob terminates a job; reason (optional) becomes
// executionInfo.terminateReason.
func (c *Client) TerminateJob(ctx context.Context, jobID, reason string) error {
	if err := checkID("job", jobID); err != nil {
		return fmt.Errorf("terminate job: %w", err)
	}
	var body any
	if reason != "" {
		body = struct {
			TerminateReason string `json:"terminateReason"`
		}{reason}
	}
	if _, err := c.send(ctx, http.MethodPost, "/jobs/"+escape(jobID)+"/terminate", nil, body, nil, http.StatusAccepted); err != nil {
		return fmt.Errorf("terminate job %s: %w", jobID, err)
	}
	return nil
}

// PatchJob changes only the fields set in patch.
func (c *Client) PatchJob(ctx context.Context, jobID string, patch JobPatchParameter) error {
	if err := checkID("job", jobID); err != nil {
		return fmt.Errorf("patch job: %w", err)
	}
	if _, err := c.send(ctx, http.MethodPatch, "/jobs/"+escape(jobID), nil, patch, nil, http.StatusOK); err != nil {
		return fmt.Errorf("patch job %s: %w", jobID, err)
	}
	return nil
}

// GetTaskCounts returns a job's task counts by state.
func (c *Client) GetTaskCounts(ctx context.Context, jobID string) (*TaskCountsResult, error) {
	if err := checkID("job", jobID); err != nil {
		return nil, fmt.Errorf("get task counts: %w", err)
	}
	var r TaskCountsResult
	if _, err := c.send(ctx, http.MethodGet, "/jobs/"+escape(jobID)+"/taskcounts", nil, nil, &r, http.StatusOK); err != nil {
		return nil, fmt.Errorf("get task counts of job %s: %w", jobID, err)
	}
	return &r, nil
}

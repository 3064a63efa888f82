package batch

import (
	"context"
	"fmt"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// MaxTasksPerCollection is the most tasks one add-collection call accepts.
const MaxTasksPerCollection = 100

// CreateTask adds one task to a job. An existing id fails with
// CodeTaskExists.
func (c *Client) CreateTask(ctx context.Context, jobID string, task TaskAddParameter) error {
	if err := checkID("job", jobID); err != nil {
		return fmt.Errorf("create task: %w", err)
	}
	if err := checkID("task", task.ID); err != nil {
		return fmt.Errorf("create task in job %s: %w", jobID, err)
	}
	if _, err := c.send(ctx, http.MethodPost, "/jobs/"+escape(jobID)+"/tasks", nil, task, nil, http.StatusCreated); err != nil {
		return fmt.Errorf("create task %s in job %s: %w", task.ID, jobID, err)
	}
	return nil
}

// AddTaskCollection makes one raw add-collection call with at most
// MaxTasksPerCollection tasks and returns the per-task results unchanged.
// Use AddTasks for any number of tasks with chunking and retries.
func (c *Client) AddTaskCollection(ctx context.Context, jobID string, tasks []TaskAddParameter) (*TaskAddCollectionResult, error) {
	if err := checkID("job", jobID); err != nil {
		return nil, fmt.Errorf("add task collection: %w", err)
	}
	if len(tasks) == 0 || len(tasks) > MaxTasksPerCollection {
		return nil, fmt.Errorf("add task collection to job %s: %d tasks, want 1..%d", jobID, len(tasks), MaxTasksPerCollection)
	}
	body := struct {
		Value []TaskAddParameter `json:"value"`
	}{tasks}
	var r TaskAddCollectionResult
	if _, err := c.send(ctx, http.MethodPost, "/jobs/"+escape(jobID)+"/addtaskcollection", nil, body, &r, http.StatusOK); err != nil {
		return nil, fmt.Errorf("add task collection to job %s: %w", jobID, err)
	}
	return &r, nil
}

// GetTask returns one task.
func (c *Client) GetTask(ctx context.Context, jobID, taskID string, opts *GetOptions) (*Task, error) {
	if err := checkIDs(jobID, taskID); err != nil {
		return nil, fmt.Errorf("get task: %w", err)
	}
	var t Task
	if _, err := c.send(ctx, http.MethodGet, taskPath(jobID, taskID), opts.query(), nil, &t, http.StatusOK); err != nil {
		return nil, fmt.Errorf("get task %s of job %s: %w", taskID, jobID, err)
	}
	return &t, nil
}

// NewListTasksPager lists the tasks of a job.
func (c *Client) NewListTasksPager(jobID string, opts *ListOptions) *runtime.Pager[ListPage[Task]] {
	return newListPager[Task](c, "list tasks of job "+jobID, "/jobs/"+escape(jobID)+"/tasks", opts, true, checkID("job", jobID))
}

// DeleteTask deletes a task and its files on the node.
func (c *Client) DeleteTask(ctx context.Context, jobID, taskID string) error {
	if err := checkIDs(jobID, taskID); err != nil {
		return fmt.Errorf("delete task: %w", err)
	}
	if _, err := c.send(ctx, http.MethodDelete, taskPath(jobID, taskID), nil, nil, nil, http.StatusOK); err != nil {
		return fmt.Errorf("delete task %s of job %s: %w", taskID, jobID, err)
	}
	return nil
}

// TerminateTask ends a task; it completes with failure code TaskEnded.
func (c *Client) TerminateTask(ctx context.Context, jobID, taskID string) error {
	if err := checkIDs(jobID, taskID); err != nil {
		return fmt.Errorf("terminate task: %w", err)
	}
	if _, err := c.send(ctx, http.MethodPost, taskPath(jobID, taskID)+"/terminate", nil, nil, nil, http.StatusNoContent); err != nil {
		return fmt.Errorf("terminate task %s of job %s: %w", taskID, jobID, err)
	}
	return nil
}

func taskPath(jobID, taskID string) string {
	return "/jobs/" + escape(jobID) + "/tasks/" + escape(taskID)
}

func checkIDs(jobID, taskID string) error {
	if err := checkID("job", jobID); err != nil {
		return err
	}
	return checkID("task", taskID)
}

package batch

import "time"

// PoolInfo names the pool a job runs on.
type PoolInfo struct {
	PoolID string `json:"poolId,omitempty"`
}

// JobConstraints limit a job's run time and its tasks' retries.
type JobConstraints struct {
	MaxWallClockTime  *Duration `json:"maxWallClockTime,omitempty"`
	MaxTaskRetryCount *int32    `json:"maxTaskRetryCount,omitempty"`
}

// JobAddParameter is the body of a create-job request.
type JobAddParameter struct {
	ID                   string             `json:"id"`
	DisplayName          string             `json:"displayName,omitempty"`
	Priority             *int32             `json:"priority,omitempty"`
	MaxParallelTasks     *int32             `json:"maxParallelTasks,omitempty"`
	Constraints          *JobConstraints    `json:"constraints,omitempty"`
	PoolInfo             PoolInfo           `json:"poolInfo"`
	OnAllTasksComplete   OnAllTasksComplete `json:"onAllTasksComplete,omitempty"`
	OnTaskFailure        OnTaskFailure      `json:"onTaskFailure,omitempty"`
	UsesTaskDependencies *bool              `json:"usesTaskDependencies,omitempty"`
	Metadata             []MetadataItem     `json:"metadata,omitempty"`
}

// JobPatchParameter is the body of a job patch; only the fields set are
// changed.
type JobPatchParameter struct {
	Priority           *int32             `json:"priority,omitempty"`
	MaxParallelTasks   *int32             `json:"maxParallelTasks,omitempty"`
	OnAllTasksComplete OnAllTasksComplete `json:"onAllTasksComplete,omitempty"`
	Constraints        *JobConstraints    `json:"constraints,omitempty"`
	PoolInfo           *PoolInfo          `json:"poolInfo,omitempty"`
	Metadata           []MetadataItem     `json:"metadata,omitempty"`
}

// Job is a job as the service reports it (CloudJob).
type Job struct {
	ID                   string             `json:"id,omitempty"`
	DisplayName          string             `json:"displayName,omitempty"`
	URL                  string             `json:"url,omitempty"`
	ETag                 string             `json:"eTag,omitempty"`
	LastModified         time.Time          `json:"lastModified,omitzero"`
	CreationTime         time.Time          `json:"creationTime,omitzero"`
	State                JobState           `json:"state,omitempty"`
	StateTransitionTime  time.Time          `json:"stateTransitionTime,omitzero"`
	PreviousState        JobState           `json:"previousState,omitempty"`
	Priority             int32              `json:"priority"`
	MaxParallelTasks     int32              `json:"maxParallelTasks,omitempty"`
	Constraints          *JobConstraints    `json:"constraints,omitempty"`
	PoolInfo             PoolInfo           `json:"poolInfo"`
	OnAllTasksComplete   OnAllTasksComplete `json:"onAllTasksComplete,omitempty"`
	OnTaskFailure        OnTaskFailure      `json:"onTaskFailure,omitempty"`
	UsesTaskDependencies bool               `json:"usesTaskDependencies"`
	Metadata             []MetadataItem     `json:"metadata,omitempty"`
	ExecutionInfo        *JobExecutionInfo  `json:"executionInfo,omitempty"`
}

// JobExecutionInfo is a job's run history.
type JobExecutionInfo struct {
	StartTime       time.Time           `json:"startTime,omitzero"`
	EndTime         time.Time           `json:"endTime,omitzero"`
	PoolID          string              `json:"poolId,omitempty"`
	SchedulingError *JobSchedulingError `json:"schedulingError,omitempty"`
	TerminateReason string              `json:"terminateReason,omitempty"`
}

// JobSchedulingError is why the service could not schedule a job.
type JobSchedulingError struct {
	Category ErrorCategory   `json:"category,omitempty"`
	Code     string          `json:"code,omitempty"`
	Message  string          `json:"message,omitempty"`
	Details  []NameValuePair `json:"details,omitempty"`
}

// TaskCounts are a job's task counts by state.
type TaskCounts struct {
	Active    int32 `json:"active"`
	Running   int32 `json:"running"`
	Completed int32 `json:"completed"`
	Succeeded int32 `json:"succeeded"`
	Failed    int32 `json:"failed"`
}

// TaskCountsResult is the response of the task-counts operation.
type TaskCountsResult struct {
	TaskCounts     TaskCounts  `json:"taskCounts"`
	TaskSlotCounts *TaskCounts `json:"taskSlotCounts,omitempty"`
}
